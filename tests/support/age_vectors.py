"""The C2SP CCTV age test kit's vectors, parsed (tests/unit/test_cctv_vectors.py, test_inspect.py).

The vectors are not part of this repository. They are read from the folder named by
`$AGE_TESTVECTORS`, or else from `shared/testvectors/age` in the folder that holds the
checkout's folder (where the development machines keep them).
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_VECTORS = Path(__file__).resolve().parents[3] / "shared/testvectors/age"
VECTORS = Path(os.environ.get("AGE_TESTVECTORS", DEFAULT_VECTORS))


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
