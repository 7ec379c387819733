"""A file a reporter sent with a form that came back (an error, another language), kept
for their session until the form is sent or the sweep deletes it (intake/kept_files.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base
from reporting.models.common import ID_LENGTH


class KeptUpload(Base):
    """An encrypted file in the blob store that no report claims yet.

    What it says of the file (name, type, size, digest, description) is sealed under a key
    only the reporter's session holds, padded to one size; the hour is when the sweep may
    delete it, never when it came.
    """

    __tablename__ = "kept_upload"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)  # the blob's id
    stored_size: Mapped[int] = mapped_column(BigInteger)  # the blob's padded ciphertext size
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Hours since 1970: the sweep deletes the file from the start of this hour on.
    expires_hour: Mapped[int] = mapped_column(Integer, index=True)
