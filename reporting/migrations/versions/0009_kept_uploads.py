"""files kept across a form that came back

A file sent with a form that comes back (an error, a language switch) is kept for the
reporter's session: its ciphertext stays in the blob store, and this table holds its
padded size, what it says of the file sealed under a key only the session holds, and the
hour from which the sweep deletes it if no report claims it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_upload",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("stored_size", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_upload")),
    )
    with op.batch_alter_table("kept_upload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kept_upload_expires_hour"), ["expires_hour"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kept_upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_upload_expires_hour"))
    op.drop_table("kept_upload")
