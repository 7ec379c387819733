"""The caseworker's age identity: made here, kept in a 0600 file, optionally under a passphrase.

The file is the one age-keygen writes, so the stock `age -d -i FILE` opens the
same reports. With a passphrase the whole identity file is itself an age file
encrypted with scrypt, which `age -d` and `age -i` both read.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import crypto
from caseworker_client.config import write_private
from caseworker_client.errors import ClientError

ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
BINARY_BEGIN = b"age-encryption.org/"


class IdentityError(ClientError):
    """A problem with the identity file, said in a way the caseworker can act on."""


def is_passphrase_protected(data: bytes) -> bool:
    """Whether an identity file is an age file (to be opened with a passphrase)."""
    head = data.lstrip()
    return head.startswith(ARMOR_BEGIN) or head.startswith(BINARY_BEGIN)


def create_identity(
    path: Path,
    *,
    classic: bool = False,
    passphrase: str | None = None,
    work_factor: int | None = None,
) -> str:
    """Make a new identity at `path` (never replacing a file); return its public recipient.

    Post-quantum (age1pq1…) unless `classic`: reports stored today may be kept by an
    adversary until a quantum computer can open X25519 alone.
    """
    if path.exists():
        raise IdentityError(
            f"{path} already exists; it was not replaced. Keep it (it opens your reports), "
            "or choose another file with --identity"
        )
    identity = crypto.generate_identity(post_quantum=not classic)
    text = crypto.identity_file_text(identity).encode("ascii")
    if passphrase is not None:
        if not passphrase:
            raise IdentityError(
                "the passphrase is empty; choose a long one, or leave out --passphrase"
            )
        options = {} if work_factor is None else {"work_factor": work_factor}
        text = crypto.encrypt(text, [crypto.ScryptRecipient(passphrase, **options)], armor=True)
    write_private(path, text, overwrite=False)
    return str(identity.recipient)


def _read(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(
            f"there is no identity at {path}; make one with `reporting-caseworker keygen` "
            "(or name yours with --identity)"
        ) from None
    except OSError as error:
        raise IdentityError(f"cannot read the identity {path}: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise IdentityError(
            f"{path} is readable by other users; run `chmod 600 {path}` and try again"
        )
    return data


def load_identities(path: Path, ask_passphrase: Callable[[], str]) -> list[crypto.Identity]:
    """The identities in `path`; `ask_passphrase` is called only for a protected file."""
    data = _read(path)
    if is_passphrase_protected(data):
        try:
            data = crypto.decrypt(data, [crypto.ScryptIdentity(ask_passphrase())])
        except crypto.NoIdentityMatchError:
            raise IdentityError(f"wrong passphrase for {path}") from None
        except crypto.DecryptionError as error:
            raise IdentityError(
                f"{path} is damaged ({error}); restore it from your backup"
            ) from None
    try:
        identities: list[crypto.Identity] = list(crypto.parse_identities(data.decode("ascii")))
    except (UnicodeDecodeError, crypto.KeyFormatError) as error:
        raise IdentityError(f"{path} is not an age identity file ({error})") from None
    return identities
