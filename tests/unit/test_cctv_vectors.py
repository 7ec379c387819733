"""The C2SP CCTV age test kit: every vector, with the outcome class it expects.

Each failure vector must raise the matching DecryptionError subclass, so that a
low-level failure is never masked by a higher-level one; the plaintext released
before a payload failure must hash to the vector's `payload:`.

The vectors are not part of this repository. They are read from the folder named by
`$AGE_TESTVECTORS`, or else from `shared/testvectors/age` in the folder that holds the
checkout's folder (where the development machines keep them).
"""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crypto import (
    ArmorError,
    Decryptor,
    HeaderError,
    MACError,
    NoIdentityMatchError,
    PayloadError,
    ScryptIdentity,
    parse_identity,
)
from crypto.format import Source, encode_header, parse_header

DEFAULT_VECTORS = Path(__file__).resolve().parents[3] / "shared/testvectors/age"
VECTORS = Path(os.environ.get("AGE_TESTVECTORS", DEFAULT_VECTORS))

EXPECT = {
    "armor failure": ArmorError,
    "header failure": HeaderError,
    "no match": NoIdentityMatchError,
    "HMAC failure": MACError,
    "payload failure": PayloadError,
}


@dataclass
class Vector:
    name: str
    expect: str
    body: bytes
    payload: str | None = None
    identities: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)
    armored: bool = False


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, body = raw.split(b"\n\n", 1)
    vec = Vector(path.name, "", body)
    compressed = False
    for line in head.decode().splitlines():
        key, value = line.split(": ", 1)
        if key == "expect":
            vec.expect = value
        elif key == "payload":
            vec.payload = value
        elif key == "identity":
            vec.identities.append(value)
        elif key == "passphrase":
            vec.passphrases.append(value)
        elif key == "armored":
            vec.armored = value == "yes"
        elif key == "compressed":
            compressed = value == "zlib"
    if compressed:
        vec.body = zlib.decompress(vec.body)
    return vec


def all_vectors() -> list[Path]:
    paths = sorted(p for p in VECTORS.iterdir() if p.name != "README.md")
    assert len(paths) == 143, f"expected the 143 CCTV vectors in {VECTORS}"
    return paths


def test_vectors_present() -> None:
    assert len(all_vectors()) == 143


@pytest.mark.parametrize("path", all_vectors(), ids=lambda p: p.name)
def test_vector(path: Path) -> None:
    vec = load(path)
    identities = [parse_identity(i) for i in vec.identities]
    identities += [ScryptIdentity(p) for p in vec.passphrases]
    released = hashlib.sha256()
    outcome = "success"
    try:
        reader = Decryptor(io.BytesIO(vec.body), identities, armored=vec.armored)
        for chunk in reader.iter_chunks():
            released.update(chunk)
    except tuple(EXPECT.values()) as exc:
        outcome = next(name for name, cls in EXPECT.items() if isinstance(exc, cls))
    assert outcome == vec.expect
    if vec.payload is not None:
        assert released.hexdigest() == vec.payload


@pytest.mark.parametrize("path", all_vectors(), ids=lambda p: p.name)
def test_header_reencodes_identically(path: Path) -> None:
    vec = load(path)
    if vec.armored or vec.expect in ("header failure", "armor failure"):
        return
    header = parse_header(Source(io.BytesIO(vec.body)))
    encoded = encode_header(header.stanzas, header.mac)
    assert vec.body.startswith(encoded)
