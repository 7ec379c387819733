"""deliveries, channels, purge records, retention

Columns added to existing tables get server defaults, so databases with rows upgrade.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("webhook", "email", name="channelkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_delivery_channel_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_channel")),
    )
    with op.batch_alter_table("delivery_channel", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_channel_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "purge_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purged_on", sa.Date(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("blobs", sa.Integer(), nullable=False),
        sa.Column("kept_unread", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_purge_record_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_record")),
    )
    with op.batch_alter_table("purge_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purge_record_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "delivery",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("blob_id", sa.String(length=32), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "failed",
                "delivered",
                "dead",
                name="deliverystate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("swept", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["blob_id"], ["blob.id"], name=op.f("fk_delivery_blob_id_blob")),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["delivery_channel.id"],
            name=op.f("fk_delivery_channel_id_delivery_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_delivery_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_delivery_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("channel_id", "blob_id", name=op.f("uq_delivery_channel_id")),
        sa.UniqueConstraint("idempotency_id", name=op.f("uq_delivery_idempotency_id")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_blob_id"), ["blob_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_state"), ["state"], unique=False)

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_days", sa.Integer(), nullable=False, server_default="90")
        )
        batch_op.add_column(
            sa.Column("notify_email", sa.String(length=320), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("notification_due", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("read", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("read")
        batch_op.drop_column("closed_on")

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("notification_due")
        batch_op.drop_column("notify_email")
        batch_op.drop_column("retention_days")

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_state"))
        batch_op.drop_index(batch_op.f("ix_delivery_report_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_message_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_channel_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_blob_id"))

    op.drop_table("delivery")
    with op.batch_alter_table("purge_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purge_record_organisation_id"))

    op.drop_table("purge_record")
    with op.batch_alter_table("delivery_channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_channel_organisation_id"))

    op.drop_table("delivery_channel")
