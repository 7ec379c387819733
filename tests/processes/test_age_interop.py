"""Interoperability with the stock `age` command (Debian's 1.1.1).

The service promises that caseworkers can open its files with the ordinary age
tool and that files made with age open here. So every file we write must decrypt
with `age -d` byte for byte, every file `age -e` writes must decrypt with ours,
and the key files of both tools must be interchangeable. Keys come from both
`age-keygen` and our generator, so neither side only ever reads its own keys.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crypto import (
    Decryptor,
    Encryptor,
    X25519Identity,
    decrypt,
    encrypt,
    identity_file_text,
    parse_identities,
    parse_identity,
    parse_recipients,
)
from tests.support.tools import require_tool

pytestmark = pytest.mark.needs_age

SMALL_SIZES = [0, 1, 65535, 65536, 65537]
BIG_SIZE = 10 * 1024 * 1024
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"


@dataclass(frozen=True)
class Key:
    """An X25519 identity, the identity file holding only it, and who made it."""

    identity: X25519Identity
    path: Path
    source: str


# Index sets into the key pool [age-keygen, ours, age-keygen]: single keys of each
# origin, then two and three recipients mixing both origins.
RECIPIENT_SETS = {
    "1-keygen": (0,),
    "1-ours": (1,),
    "2-mixed": (1, 0),
    "3-mixed": (0, 1, 2),
}
SMALL_CASES = [
    pytest.param(size, keys, armor, id=f"{size}B-{keys}-{'armor' if armor else 'binary'}")
    for size in SMALL_SIZES
    for keys in RECIPIENT_SETS
    for armor in (False, True)
]
BIG_CASES = [
    pytest.param(keys, armor, id=f"10MiB-{keys}-{'armor' if armor else 'binary'}")
    for keys in ("1-ours", "3-mixed")
    for armor in (False, True)
]


def run(*args: str | Path, input: bytes | None = None) -> bytes:
    """Run a command, fail the test with its stderr if it fails, return its stdout."""
    proc = subprocess.run([str(a) for a in args], input=input, capture_output=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"{args[0]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def plaintext(size: int) -> bytes:
    """Deterministic, incompressible test data."""
    return random.Random(size).randbytes(size)


def assert_same_bytes(actual: bytes, expected: bytes) -> None:
    """Compare by length and hash: a 10 MiB diff would drown the report."""
    assert len(actual) == len(expected)
    assert hashlib.sha256(actual).hexdigest() == hashlib.sha256(expected).hexdigest()


@pytest.fixture(scope="module")
def age() -> str:
    return require_tool("age")


@pytest.fixture(scope="module")
def age_keygen() -> str:
    return require_tool("age-keygen")


@pytest.fixture(scope="module")
def key_pool(tmp_path_factory: pytest.TempPathFactory, age_keygen: str) -> list[Key]:
    """Three X25519 keys: made by age-keygen, by us, and by age-keygen again."""
    folder = tmp_path_factory.mktemp("keys")
    pool = []
    for i, source in enumerate(("age-keygen", "ours", "age-keygen")):
        path = folder / f"key{i}-{source}.txt"
        if source == "age-keygen":
            run(age_keygen, "-o", path)
            [identity] = parse_identities(path.read_text())
            assert isinstance(identity, X25519Identity)
        else:
            identity = X25519Identity.generate()
            path.write_text(identity_file_text(identity))
        pool.append(Key(identity, path, source))
    return pool


def pick(pool: list[Key], name: str) -> list[Key]:
    return [pool[i] for i in RECIPIENT_SETS[name]]


def age_encrypt_args(keys: list[Key], armor: bool) -> list[str]:
    args = ["-e"]
    for key in keys:
        args += ["-r", str(key.identity.recipient)]
    return [*args, "-a"] if armor else args


@pytest.mark.parametrize(("size", "keys", "armor"), SMALL_CASES)
def test_age_decrypts_what_we_encrypt(
    age: str, key_pool: list[Key], size: int, keys: str, armor: bool
) -> None:
    """Each recipient's own identity file, alone, opens our file with `age -d`."""
    data = plaintext(size)
    chosen = pick(key_pool, keys)
    ciphertext = encrypt(data, [k.identity.recipient for k in chosen], armor=armor)
    for key in chosen:
        assert run(age, "-d", "-i", key.path, input=ciphertext) == data


@pytest.mark.parametrize(("size", "keys", "armor"), SMALL_CASES)
def test_we_decrypt_what_age_encrypts(
    age: str, key_pool: list[Key], size: int, keys: str, armor: bool
) -> None:
    """Each recipient's identity, alone, opens a file `age -e` made for all of them."""
    data = plaintext(size)
    chosen = pick(key_pool, keys)
    ciphertext = run(age, *age_encrypt_args(chosen, armor), input=data)
    assert ciphertext.startswith(b"-----BEGIN AGE" if armor else b"age-encryption.org/v1\n")
    for key in chosen:
        assert decrypt(ciphertext, [key.identity]) == data


@pytest.mark.slow
@pytest.mark.parametrize(("keys", "armor"), BIG_CASES)
def test_age_decrypts_our_large_file(
    age: str, key_pool: list[Key], tmp_path: Path, keys: str, armor: bool
) -> None:
    """A 10 MiB file streamed by Encryptor into a real file opens with `age -d -o`."""
    data = plaintext(BIG_SIZE)
    chosen = pick(key_pool, keys)
    encrypted = tmp_path / "report.age"
    with encrypted.open("wb") as sink:
        with Encryptor(sink, [k.identity.recipient for k in chosen], armor=armor) as enc:
            enc.write(data)
        assert not sink.closed, "the Encryptor must not close its sink"
    for key in chosen:
        out = tmp_path / f"out-{key.path.stem}"
        run(age, "-d", "-i", key.path, "-o", out, encrypted)
        assert_same_bytes(out.read_bytes(), data)


@pytest.mark.slow
@pytest.mark.parametrize(("keys", "armor"), BIG_CASES)
def test_we_decrypt_large_file_from_age(
    age: str, key_pool: list[Key], tmp_path: Path, keys: str, armor: bool
) -> None:
    """A 10 MiB file written by `age -e -o` streams back through Decryptor from disk."""
    data = plaintext(BIG_SIZE)
    chosen = pick(key_pool, keys)
    source = tmp_path / "plain.bin"
    source.write_bytes(data)
    encrypted = tmp_path / "report.age"
    run(age, *age_encrypt_args(chosen, armor), "-o", encrypted, source)
    for key in chosen:
        with encrypted.open("rb") as f:
            got = b"".join(Decryptor(f, [key.identity]).iter_chunks())
        assert_same_bytes(got, data)


def test_age_accepts_our_identity_file(age: str, tmp_path: Path) -> None:
    """identity_file_text() writes what `age -d -i` reads (age-keygen's format)."""
    identity = X25519Identity.generate()
    path = tmp_path / "key.txt"
    path.write_text(identity_file_text(identity, created=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)))
    ciphertext = run(age, "-e", "-r", str(identity.recipient), input=b"hello")
    assert run(age, "-d", "-i", path, input=ciphertext) == b"hello"


def test_age_accepts_our_identity_file_with_several_keys(age: str, tmp_path: Path) -> None:
    """Several of our identity files concatenated still form one valid age identity file."""
    identities = [X25519Identity.generate() for _ in range(3)]
    path = tmp_path / "keys.txt"
    path.write_text("\n".join(identity_file_text(i) for i in identities))
    assert [str(i) for i in parse_identities(path.read_text())] == [str(i) for i in identities]
    for identity in identities:
        ciphertext = encrypt(b"several", [identity.recipient])
        assert run(age, "-d", "-i", path, input=ciphertext) == b"several"


def test_we_parse_age_keygen_identity_file(age_keygen: str, tmp_path: Path) -> None:
    """A file from `age-keygen -o` parses, and its public-key comment matches our recipient."""
    path = tmp_path / "key.txt"
    run(age_keygen, "-o", path)
    text = path.read_text()
    [identity] = parse_identities(text)
    [public_line] = [line for line in text.splitlines() if line.startswith("# public key: ")]
    assert str(identity.recipient) == public_line.removeprefix("# public key: ")
    [secret_line] = [line for line in text.splitlines() if line.startswith("AGE-SECRET-KEY-1")]
    assert str(identity) == secret_line


def test_age_keygen_stdout_identity_parses(age_keygen: str) -> None:
    """`age-keygen` writing to stdout gives the same format; the recipient goes to stderr."""
    proc = subprocess.run([age_keygen], capture_output=True, check=True, timeout=30)
    [identity] = parse_identities(proc.stdout.decode())
    assert f"Public key: {identity.recipient}" in proc.stderr.decode()


@pytest.mark.parametrize("origin", ["spec", "ours", "our-file"])
def test_age_keygen_y_matches_our_recipient(age_keygen: str, origin: str) -> None:
    """`age-keygen -y` derives the same recipient string as we do from the same identity."""
    if origin == "spec":
        identity = parse_identity(SPEC_IDENTITY)
        text = SPEC_IDENTITY + "\n"
    else:
        identity = X25519Identity.generate()
        text = identity_file_text(identity) if origin == "our-file" else f"{identity}\n"
    assert run(age_keygen, "-y", input=text.encode()).decode().strip() == str(identity.recipient)
    if origin == "spec":
        assert str(identity.recipient) == SPEC_RECIPIENT


def test_recipients_file_means_the_same_to_both(
    age: str, key_pool: list[Key], tmp_path: Path
) -> None:
    """A recipients file with comments is read alike by `age -R` and parse_recipients()."""
    path = tmp_path / "recipients.txt"
    path.write_text(
        "# caseworkers\n" + "".join(f"{k.identity.recipient}\n\n# next\n" for k in key_pool)
    )
    recipients = parse_recipients(path.read_text())
    assert recipients == [k.identity.recipient for k in key_pool]
    from_age = run(age, "-e", "-R", path, input=b"to all")
    ours = encrypt(b"to all", recipients)
    for key in key_pool:
        assert decrypt(from_age, [key.identity]) == b"to all"
        assert run(age, "-d", "-i", key.path, input=ours) == b"to all"


def test_age_rejects_our_file_for_someone_else(age: str, key_pool: list[Key]) -> None:
    """Sanity check of the harness: age really checks, it does not just echo something back."""
    ciphertext = encrypt(b"secret", [key_pool[1].identity.recipient])
    proc = subprocess.run(
        [age, "-d", "-i", str(key_pool[0].path)], input=ciphertext, capture_output=True, timeout=30
    )
    assert proc.returncode != 0
    assert proc.stdout == b""


def test_our_armor_is_what_age_writes(age: str, key_pool: list[Key]) -> None:
    """Same armor layout as age: BEGIN line, 64-column lines, END line and a final LF."""
    recipient = key_pool[0].identity.recipient
    for size in (0, 47, 48, 1000):
        ours = encrypt(plaintext(size), [recipient], armor=True)
        theirs = run(age, "-e", "-a", "-r", str(recipient), input=plaintext(size))
        for armored in (ours, theirs):
            lines = armored.split(b"\n")
            assert lines[0] == b"-----BEGIN AGE ENCRYPTED FILE-----"
            assert lines[-2:] == [b"-----END AGE ENCRYPTED FILE-----", b""]
            assert all(len(line) == 64 for line in lines[1:-3])
            assert 0 < len(lines[-3]) <= 64
        # Same file size (both write one X25519 stanza), so the same line structure.
        assert len(ours) == len(theirs)
        assert decrypt(theirs, [key_pool[0].identity]) == plaintext(size)
