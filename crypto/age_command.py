"""`python -m crypto`: keygen, encrypt and decrypt, compatible with age for the basics.

Caseworkers can check anything this service encrypts with the stock `age`
command, and use this one where `age` is not installed. Errors are one line
on stderr that says what went wrong and what to do; a file that fails its
header, identity or MAC checks leaves nothing at all in the output file.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from .age import Decryptor, Encryptor
from .armor_stream import looks_armored
from .errors import (
    AgeError,
    ArmorError,
    CryptoError,
    HeaderError,
    MACError,
    NoIdentityMatchError,
    PayloadError,
)
from .files import atomic_write
from .key_files import (
    generate_identity,
    identity_file_text,
    parse_identities,
    parse_recipient,
    parse_recipients,
)
from .progress import Progress
from .recipients import Identity, Recipient
from .scrypt import ScryptIdentity, ScryptRecipient

BLOCK = 1024 * 1024


class CLIError(CryptoError):
    """A usage problem, reported as one line."""


_HINTS: list[tuple[type[Exception], str]] = [
    (NoIdentityMatchError, "check that -i names the key this file was encrypted to"),
    (MACError, "the file was altered after it was encrypted; do not trust it"),
    (ArmorError, "the armored text was altered or cut; copy the whole block again"),
    (HeaderError, "this is not an intact age file (or it was altered)"),
    (PayloadError, "the file is damaged or incomplete; get a fresh copy"),
]


def _hint(exc: Exception) -> str:
    for cls, hint in _HINTS:
        if isinstance(exc, cls):
            return f"{exc} ({hint})"
    return str(exc)


@contextlib.contextmanager
def _open_input(path: str | None) -> Iterator[BinaryIO]:
    if path in (None, "-"):
        yield sys.stdin.buffer
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    with f:
        yield f


@contextlib.contextmanager
def _atomic_output(path: str | None, binary: bool) -> Iterator[BinaryIO]:
    """Write to a temp file next to `path`, renamed into place only on success.

    Devices and pipes (`-o /dev/null`, a FIFO) are written directly: renaming
    over them would replace the device with a regular file.
    """
    if path in (None, "-"):
        if binary and sys.stdout.isatty():
            raise CLIError("refusing to write binary output to a terminal; use -a or -o FILE")
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, "wb") as f:
            yield f
        return
    with atomic_write(path) as f:
        yield f


def _read_passphrase(prompt: str, confirm: bool = False) -> str:
    """Ask on the terminal, never on stdin: stdin may be the file being decrypted."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        raise CLIError(
            "a passphrase is needed but there is no terminal to ask on "
            "(to decrypt with a key, give -i IDENTITY_FILE)"
        ) from None
    import getpass

    passphrase = getpass.getpass(prompt)
    if confirm and getpass.getpass("Confirm passphrase: ") != passphrase:
        raise CLIError("the passphrases do not match")
    if not passphrase:
        raise CLIError("empty passphrase")
    return passphrase


def _load_identity_file(path: str) -> list[Identity]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise CLIError(f"cannot read identity file {path}: {exc.strerror}") from None
    if data.startswith(b"age-encryption.org/") or looks_armored(data[:64]):
        # A passphrase-protected identity file, as `age -p` writes it.
        passphrase = _read_passphrase(f"Passphrase for identity file {path}: ")
        data = Decryptor(io.BytesIO(data), [ScryptIdentity(passphrase)]).read()
    try:
        return list(parse_identities(data.decode("utf-8")))
    except UnicodeDecodeError:
        raise CLIError(f"identity file {path} is not text") from None
    except AgeError as exc:
        raise CLIError(f"identity file {path}: {exc}") from None


def cmd_keygen(args: argparse.Namespace) -> None:
    if args.convert:
        with _open_input(args.input) as f:
            identities = parse_identities(f.read().decode("utf-8", "replace"))
        out = "".join(f"{i.recipient}\n" for i in identities)
        if args.output:
            with open(args.output, "w") as f:
                f.write(out)
        else:
            sys.stdout.write(out)
        return
    identity = generate_identity(post_quantum=args.pq)
    text = identity_file_text(identity)
    if args.output:
        try:
            with atomic_write(args.output, replace=False) as f:
                f.write(text.encode())
        except FileExistsError:
            raise CLIError(f"{args.output} exists; refusing to overwrite a key") from None
    else:
        sys.stdout.write(text)
    if args.output or not sys.stdout.isatty():
        print(f"Public key: {identity.recipient}", file=sys.stderr)


def _recipients(args: argparse.Namespace) -> list[Recipient]:
    recipients: list[Recipient] = []
    try:
        recipients.extend(parse_recipient(text) for text in args.recipient or [])
        for path in args.recipients_file or []:
            with open(path, encoding="utf-8") as f:
                recipients.extend(parse_recipients(f.read()))
    except OSError as exc:
        raise CLIError(f"cannot read recipients file: {exc.strerror}") from None
    except AgeError as exc:
        raise CLIError(f"bad recipient: {exc}") from None
    if args.passphrase:
        if recipients:
            raise CLIError("-p cannot be combined with -r or -R")
        recipients.append(ScryptRecipient(_read_passphrase("Passphrase: ", confirm=True)))
    if not recipients:
        raise CLIError("no recipients: give -r RECIPIENT, -R FILE or -p")
    return recipients


def _copy(src: BinaryIO, dst: Encryptor, progress: Progress) -> None:
    while block := src.read(BLOCK):
        dst.write(block)
        progress.advance(len(block))


def cmd_encrypt(args: argparse.Namespace) -> None:
    recipients = _recipients(args)
    with _open_input(args.input) as src, _atomic_output(args.output, not args.armor) as out:
        progress = Progress.for_file(src, "encrypting")
        with Encryptor(out, recipients, armor=args.armor) as enc:
            _copy(src, enc, progress)
        progress.done()


def cmd_decrypt(args: argparse.Namespace) -> None:
    identities: list[Identity] = []
    for path in args.identity or []:
        identities.extend(_load_identity_file(path))
    with _open_input(args.input) as src:
        progress = Progress.for_file(src, "decrypting")
        if not identities:
            # Like age: with no -i the file must be passphrase-encrypted.
            identities = [ScryptIdentity(_read_passphrase("Passphrase: "))]
        # Header, identity and MAC are checked here, before any output exists.
        reader = Decryptor(src, identities)
        with _atomic_output(args.output, binary=False) as out:
            for chunk in reader.iter_chunks():
                out.write(chunk)
                progress.advance(len(chunk) + 16)
        progress.done()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crypto", description="age v1 encryption (age-encryption.org/v1)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    keygen = sub.add_parser("keygen", help="make a new identity (secret key)")
    keygen.add_argument("--pq", "-pq", action="store_true", help="post-quantum (mlkem768x25519)")
    keygen.add_argument("-o", "--output", help="write the identity to FILE (mode 0600)")
    keygen.add_argument(
        "-y",
        dest="convert",
        action="store_true",
        help="print the recipients of an identity file instead",
    )
    keygen.add_argument("input", nargs="?", help="identity file for -y (default stdin)")
    keygen.set_defaults(func=cmd_keygen)

    enc = sub.add_parser("encrypt", help="encrypt to recipients")
    enc.add_argument("-r", "--recipient", action="append", help="recipient (age1… or age1pq1…)")
    enc.add_argument("-R", "--recipients-file", action="append", help="file of recipients")
    enc.add_argument("-p", "--passphrase", action="store_true", help="encrypt with a passphrase")
    enc.add_argument("-a", "--armor", action="store_true", help="PEM-armored output")
    enc.add_argument("-o", "--output", help="output file (default stdout)")
    enc.add_argument("input", nargs="?", help="input file (default stdin)")
    enc.set_defaults(func=cmd_encrypt)

    dec = sub.add_parser("decrypt", help="decrypt with identities")
    dec.add_argument("-i", "--identity", action="append", help="identity file (repeatable)")
    dec.add_argument("-o", "--output", help="output file (default stdout)")
    dec.add_argument("input", nargs="?", help="input file (default stdin)")
    dec.set_defaults(func=cmd_decrypt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CLIError, AgeError) as exc:
        print(f"error: {_hint(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc} ({exc.filename or 'I/O'})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output was kept", file=sys.stderr)
        return 130
    return 0
