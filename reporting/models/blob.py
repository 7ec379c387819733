"""A stored ciphertext: the file name in the blob store and its (padded) size."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from reporting.infra.db import Base
from reporting.models.common import ID_LENGTH, new_id


class Blob(Base):
    """One age file on disk. Its size is padded, so it hints little at the content."""

    __tablename__ = "blob"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    size: Mapped[int] = mapped_column(BigInteger)
