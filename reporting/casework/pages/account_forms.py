# mypy: disallow-subclassing-any=False
# (WTForms ships no type information, so its classes are Any to mypy.)
"""Forms of the caseworker's login, invitation, enrolment and account pages.

Every form is a FlaskForm, so every POST carries the session's CSRF token. Pages
with several forms give each a prefix, so field ids stay unique on the page.
"""

from __future__ import annotations

from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from reporting.web.forms import StrictForm

CODE_HELP = "The 6 digits your authenticator app shows now, or one of your recovery codes."


class LoginForm(StrictForm):
    organisation = StringField(
        "Organisation",
        description="Its name, as your admin gave it. Leave empty if the service hosts only yours.",
        validators=[Length(max=200)],
    )
    username = StringField(
        "Username", validators=[DataRequired("Type your username."), Length(max=64)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Type your password."), Length(max=1024)]
    )
    code = StringField(
        "Code",
        description=CODE_HELP,
        validators=[DataRequired("Type a code from your app."), Length(max=64)],
    )
    submit = SubmitField("Log in")


class NewPasswordForm(StrictForm):
    """Choosing a password when accepting an invitation."""

    password = PasswordField(
        "New password",
        description="At least 12 characters. A few unusual words make a good password.",
        validators=[DataRequired("Choose a password."), Length(max=1024)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the password a second time."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )
    submit = SubmitField("Set password")


class CodeForm(StrictForm):
    """The first code from the authenticator app, which finishes enrolment."""

    code = StringField(
        "Code from your app",
        description="The 6 digits the app shows for this account now.",
        validators=[DataRequired("Type the code your app shows."), Length(max=16)],
    )
    submit = SubmitField("Confirm")


class ChangePasswordForm(StrictForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired("Type your current password."), Length(max=1024)],
    )
    password = PasswordField(
        "New password",
        description="At least 12 characters. Your other sessions and API tokens will end.",
        validators=[DataRequired("Choose a new password."), Length(max=1024)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the new password a second time."),
            EqualTo("password", "The two new passwords are not the same."),
        ],
    )
    submit = SubmitField("Change password")


class KeyForm(StrictForm):
    recipient = TextAreaField(
        "Your public key",
        description=(
            "The public key (age1pq1… or age1…) that reporting-caseworker keygen or "
            "age-keygen printed. Never paste the secret key: it stays on your machine."
        ),
        validators=[DataRequired("Paste your public key."), Length(max=4000)],
    )
    current = PasswordField(
        "Current password",
        validators=[DataRequired("Type your current password."), Length(max=1024)],
    )
    submit = SubmitField("Register key")


class RecoveryCodesForm(StrictForm):
    current = PasswordField(
        "Current password",
        description="New codes replace all of your old ones.",
        validators=[DataRequired("Type your current password."), Length(max=1024)],
    )
    submit = SubmitField("Make new recovery codes")


class RevokeTokenForm(StrictForm):
    submit = SubmitField("Revoke")
