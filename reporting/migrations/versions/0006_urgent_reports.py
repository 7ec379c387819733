"""urgent reports

A reporter can say that someone is in danger now or within days. Like consent, that
one answer is kept in clear on the report's row, so the inbox sorts urgent reports
first; the organisation's flag says an immediate content-free notice is due. Reports
stored before are not urgent (the flag was never asked).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent_notice_due", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("urgent_notice_due")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("urgent")
