"""caseworkers, triage, partners, audit

The report statuses are renamed to the caseworkers' set (new, triaged, in progress,
escalated, closed); existing rows are mapped to the nearest new status.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUS_RENAMES = (
    ("received", "new"),
    ("in_review", "triaged"),
    ("needs_information", "in_progress"),
)


def _rename_statuses(pairs: tuple[tuple[str, str], ...]) -> None:
    for old, new in pairs:
        op.execute(
            sa.text("UPDATE report SET status = :new WHERE status = :old").bindparams(
                old=old, new=new
            )
        )


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entry_hash")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_entry_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "caseworker",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "caseworker", name="role", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret_sealed", sa.Text(), nullable=False),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("auth_epoch", sa.Integer(), nullable=False),
        sa.Column("invite_token_hash", sa.String(length=64), nullable=True),
        sa.Column("invite_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_caseworker_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caseworker")),
        sa.UniqueConstraint("invite_token_hash", name=op.f("uq_caseworker_invite_token_hash")),
        sa.UniqueConstraint("username", name=op.f("uq_caseworker_username")),
    )
    with op.batch_alter_table("caseworker", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_caseworker_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_partner_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_partner_organisation_id")),
    )
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "triage_tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_triage_tag_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_tag")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_triage_tag_organisation_id")),
    )
    with op.batch_alter_table("triage_tag", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_triage_tag_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caseworker_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("auth_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["caseworker_id"], ["caseworker.id"], name=op.f("fk_api_token_caseworker_id_caseworker")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_token_caseworker_id"), ["caseworker_id"], unique=False
        )

    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caseworker_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_recovery_code_caseworker_id_caseworker"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recovery_code_caseworker_id"), ["caseworker_id"], unique=False
        )

    op.create_table(
        "report_read",
        sa.Column("caseworker_id", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("seq_seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["caseworker_id"],
            ["caseworker.id"],
            name=op.f("fk_report_read_caseworker_id_caseworker"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_read_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("caseworker_id", "report_id", name=op.f("pk_report_read")),
    )
    op.create_table(
        "report_tag",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_tag_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["triage_tag.id"],
            name=op.f("fk_report_tag_tag_id_triage_tag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "tag_id", name=op.f("pk_report_tag")),
    )
    with op.batch_alter_table("delivery_channel", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_delivery_channel_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_delivery_channel_partner_id_partner"), "partner", ["partner_id"], ["id"]
        )

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_message_partner_id_partner"), "partner", ["partner_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_message_author_id_caseworker"), "caseworker", ["author_id"], ["id"]
        )

    with op.batch_alter_table("organisation_recipient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caseworker_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_organisation_recipient_caseworker_id"), ["caseworker_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_organisation_recipient_caseworker_id_caseworker"),
            "caseworker",
            ["caseworker_id"],
            ["id"],
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "consent",
                sa.Enum("none", "anonymised", "full", name="consent", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "severity",
                sa.Enum(
                    "low",
                    "medium",
                    "high",
                    "critical",
                    name="severity",
                    native_enum=False,
                    length=16,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("assignee_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_report_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_report_assignee_id_caseworker"), "caseworker", ["assignee_id"], ["id"]
        )

    _rename_statuses(STATUS_RENAMES)


def downgrade() -> None:
    _rename_statuses(tuple((new, old) for old, new in STATUS_RENAMES))
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_report_assignee_id_caseworker"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_report_assignee_id"))
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("severity")
        batch_op.drop_column("consent")

    with op.batch_alter_table("organisation_recipient", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_organisation_recipient_caseworker_id_caseworker"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_organisation_recipient_caseworker_id"))
        batch_op.drop_column("caseworker_id")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_message_author_id_caseworker"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_message_partner_id_partner"), type_="foreignkey")
        batch_op.drop_column("partner_id")
        batch_op.drop_column("author_id")

    with op.batch_alter_table("delivery_channel", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_delivery_channel_partner_id_partner"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_delivery_channel_partner_id"))
        batch_op.drop_column("partner_id")

    op.drop_table("report_tag")
    op.drop_table("report_read")
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_caseworker_id"))

    op.drop_table("recovery_code")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_caseworker_id"))

    op.drop_table("api_token")
    with op.batch_alter_table("triage_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_tag_organisation_id"))

    op.drop_table("triage_tag")
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_organisation_id"))

    op.drop_table("partner")
    with op.batch_alter_table("caseworker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caseworker_organisation_id"))

    op.drop_table("caseworker")
    op.drop_table("login_throttle")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_organisation_id"))

    op.drop_table("audit_entry")
