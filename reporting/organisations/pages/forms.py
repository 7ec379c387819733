# mypy: disallow-subclassing-any=False
# (WTForms ships no type information, so its classes are Any to mypy.)
"""Admin forms. Each carries the session's CSRF token (Flask-WTF); the plain functions
check the values again, so these only give early, field-tied messages."""

from __future__ import annotations

from wtforms import (
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from reporting.models import Role
from reporting.organisations.administration import MAX_DELETION_DELAY_DAYS, MAX_RETENTION_DAYS
from reporting.web.forms import StrictForm

# The documented flow (receiver/README.md, README.md): the NGO's receiver makes the secret,
# whoever runs it hands it to the admin once, the admin pastes it here.
RECEIVER_HANDOVER_HELP = (
    "The whsec_… secret that whoever runs the receiver made with "
    "`reporting-ngo-receiver --new-secret FILE` and gave you over a safe channel. It is kept "
    "to sign deliveries and never shown again; delete your copy once it is saved."
)

ROLE_CHOICES = [
    SelectChoice(Role.CASEWORKER.value, "Caseworker"),
    SelectChoice(Role.ADMIN.value, "Admin"),
]


class ActionForm(StrictForm):
    """A button that changes something (disable, remove, retry…): only the CSRF token."""

    submit = SubmitField("Confirm")


class InviteForm(StrictForm):
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(max=64)],
        description="Letters a to z, digits, dots, dashes or underscores; they log in with it.",
    )
    display_name = StringField("Display name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.CASEWORKER.value)
    submit = SubmitField("Invite")


class RoleForm(StrictForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class KeyForm(StrictForm):
    recipient = StringField(
        "Public key",
        validators=[DataRequired(), Length(max=4000)],
        description="An age public key (age1… or age1pq1…). Never paste a private key.",
    )
    label = StringField(
        "Label",
        validators=[Optional(), Length(max=200)],
        description='Where this key is kept, for example "escrow, kept offline".',
    )
    submit = SubmitField("Add key")


class TagForm(StrictForm):
    name = StringField("Tag name", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Save tag")


class PartnerForm(StrictForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    recipients = TextAreaField(
        "Public keys",
        validators=[DataRequired(), Length(max=100_000)],
        description="The partner's age public keys (age1… or age1pq1…), one a line. "
        "Escalations are encrypted to these keys and no others.",
    )
    submit = SubmitField("Save partner")


class WebhookForm(StrictForm):
    url = StringField(
        "Webhook URL",
        validators=[DataRequired(), Length(max=2000)],
        description="The receiver's address, https://… . It must be reachable from the "
        "internet (a private or loopback address is refused).",
    )
    # Never sent back in a page (PasswordField renders empty), never in the audit log.
    secret = PasswordField(
        "Signing secret",
        validators=[DataRequired(), Length(max=200)],
        description=RECEIVER_HANDOVER_HELP,
    )
    submit = SubmitField("Add webhook")


class EmailForm(StrictForm):
    address = StringField(
        "E-mail address",
        validators=[DataRequired(), Length(max=320)],
        description="The encrypted file is sent as an attachment; the message says nothing "
        "of what it holds.",
    )
    submit = SubmitField("Add e-mail")


class SettingsForm(StrictForm):
    retention_days = IntegerField(
        "Keep closed reports for (days)",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_RETENTION_DAYS)],
    )
    deletion_delay_days = IntegerField(
        "Wait before deleting a report its reporter asked to delete (days)",
        validators=[Optional(), NumberRange(min=0, max=MAX_DELETION_DELAY_DAYS)],
        description="The reporter's codename no longer opens it at once; the wait gives "
        "caseworkers time to reach out, since a deletion may be made under pressure.",
    )
    max_report_age_days = IntegerField(
        "Delete any report at this age (days)",
        validators=[Optional(), NumberRange(min=1, max=MAX_RETENTION_DAYS)],
        description="Whatever its status, read or not. Notices warn 14 days before.",
    )
    notify_email = StringField(
        "Send “new reports” notices to",
        validators=[Optional(), Length(max=320)],
        description="An e-mail address, or empty for no notices. Notices say only that "
        "something arrived.",
    )
    submit = SubmitField("Save settings")
