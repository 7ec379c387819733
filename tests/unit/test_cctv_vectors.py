"""The C2SP CCTV age test kit: every vector, with the outcome class it expects.

Each failure vector must raise the matching DecryptionError subclass, so that a
low-level failure is never masked by a higher-level one; the plaintext released
before a payload failure must hash to the vector's `payload:` (tests/support/age_vectors.py
says where the vectors are read from).
"""

from __future__ import annotations

import hashlib
import io
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
from tests.support.age_vectors import all_vectors, load

EXPECT = {
    "armor failure": ArmorError,
    "header failure": HeaderError,
    "no match": NoIdentityMatchError,
    "HMAC failure": MACError,
    "payload failure": PayloadError,
}


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
