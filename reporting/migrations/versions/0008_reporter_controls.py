"""what the reporter controls afterwards, and a maximum age for every report

From /case a reporter can change their consent or the urgent flag, or ask for the report
to be deleted; each is kept on the report's row to the day only, so caseworkers see it.
The organisation sets how long a deletion request waits before the purge (default 7 days)
and the maximum age of any report (default 365 days), and is warned before reports reach
it (a flag per organisation, and one bit per report so it is warned once).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_changed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("urgent_changed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("deletion_requested_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("expiry_warned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deletion_delay_days", sa.Integer(), nullable=False, server_default="7")
        )
        batch_op.add_column(
            sa.Column("max_report_age_days", sa.Integer(), nullable=False, server_default="365")
        )
        batch_op.add_column(
            sa.Column("expiry_notice_due", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("expiry_notice_due")
        batch_op.drop_column("max_report_age_days")
        batch_op.drop_column("deletion_delay_days")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("expiry_warned")
        batch_op.drop_column("deletion_requested_on")
        batch_op.drop_column("urgent_changed_on")
        batch_op.drop_column("consent_changed_on")
