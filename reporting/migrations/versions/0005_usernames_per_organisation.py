"""usernames unique per organisation

A username was unique across the service, so an admin inviting 'alice' learned that
an account of that name existed in another organisation. Names are now unique within
an organisation, and a login names the organisation (or the service hosts only one).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("caseworker", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_caseworker_username"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_caseworker_organisation_id"), ["organisation_id", "username"]
        )


def downgrade() -> None:
    # Fails, as it should, when two organisations have come to use the same name.
    with op.batch_alter_table("caseworker", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_caseworker_organisation_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_caseworker_username"), ["username"])
