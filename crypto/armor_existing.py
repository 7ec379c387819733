"""Armoring an age file that already exists, for channels that want text (e-mail).

The worker holds binary age files in the blob store; it never re-encrypts them
(it cannot: it holds no keys). Armor is a pure encoding of the same bytes, so
`armor(binary)` is exactly what `age -a` (or `Encryptor(..., armor=True)`) would
have written for that file, and any age implementation reads it back.
"""

from __future__ import annotations

import io

from .armor_stream import ArmorWriter, looks_armored

_AGE_MAGIC = b"age-encryption.org/"


def armor(data: bytes) -> bytes:
    """Return the binary age file `data` in ASCII armor (PEM, 64-column base64 lines).

    Refuses anything that is not a binary age file: armoring armor would give a
    file no tool opens, and armoring other bytes could dress up plaintext as an
    encrypted file on its way out of the server.
    """
    if looks_armored(data[:2048]):
        raise ValueError("the data is already armored")
    if not data.startswith(_AGE_MAGIC):
        raise ValueError("the data is not a binary age file")
    out = io.BytesIO()
    writer = ArmorWriter(out)
    writer.write(data)
    writer.close()
    return out.getvalue()
