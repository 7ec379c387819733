"""Signing in to the service from the desk, for caseworkers who never open a terminal again.

The desk starts whether or not the client holds a session; without one, or once the
server no longer accepts it, every page leads here. The password and the authenticator
code go to the server once, through the same `log_in` as the command line's, and are
never kept or shown again; the session token the server gives back is kept as `login`
keeps it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from caseworker_client.api import ApiError
from caseworker_client.desk.desk_state import desk
from caseworker_client.errors import ClientError
from caseworker_client.signin import log_in, register_own_key

bp = Blueprint("signin", __name__)

# Pages that open without a session: this one, the desk's one-time link, its stylesheet.
OPEN_ENDPOINTS = frozenset({"signin.sign_in", "guard.open_desk", "static"})
EXPIRED = "The service no longer accepts the desk's session (it ended or was revoked)."


class SignInForm(FlaskForm):  # type: ignore[misc]
    server = StringField("The service's address", [DataRequired(), Length(max=500)])
    organisation = StringField(
        "Organisation (only if the service hosts several)", [Length(max=200)]
    )
    username = StringField("Username", [DataRequired(), Length(max=200)])
    password = PasswordField("Password", [DataRequired(), Length(max=1000)])
    code = StringField("Code from your authenticator app (or a recovery code)", [DataRequired()])
    send = SubmitField("Sign in")


def expired(error: BaseException) -> bool:
    """An answer that says the session is over, not that the request was wrong."""
    return isinstance(error, ApiError) and error.status == 401


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    ctx = desk().ctx
    last = ctx.home.load_session()
    form = SignInForm()
    if request.method == "GET" and last is not None:
        form.server.data, form.username.data = last.server, last.username
    problem = EXPIRED if request.args.get("expired") else ""
    if form.validate_on_submit():
        try:
            done = log_in(
                ctx,
                form.server.data.strip(),
                (form.organisation.data or "").strip(),
                form.username.data.strip(),
                form.password.data,
                form.code.data.strip(),
            )
        except ClientError as error:
            problem = f"Not signed in: {error}"
        else:
            if not done.has_key:
                return redirect(url_for("signin.your_key"), 303)
            return redirect(url_for("pages.inbox"), 303)
    form.password.data = form.code.data = ""  # never sent back to the browser
    status = 400 if request.method == "POST" else 200
    return render_template("desk/signin.html", form=form, problem=problem), status


class RegisterKeyForm(FlaskForm):  # type: ignore[misc]
    send = SubmitField("Register my key")


@bp.route("/your-key", methods=["GET", "POST"])
def your_key() -> Any:
    """The service has no public key of this caseworker yet: nothing can be encrypted to
    them until it has. Registering sends the public half of this computer's key only."""
    ctx = desk().ctx
    form = RegisterKeyForm()
    if form.validate_on_submit():
        register_own_key(ctx)
        return redirect(url_for("pages.inbox"), 303)
    recipient = str(ctx.identities[0].recipient)  # type: ignore[attr-defined]
    return render_template("desk/your_key.html", form=form, recipient=recipient)


def require_session() -> Response | None:
    """Every page but the open ones needs the client's session."""
    if request.endpoint in OPEN_ENDPOINTS or desk().ctx.logged_in():
        return None
    return redirect(url_for("signin.sign_in"), 303)


def init_app(app: Flask) -> None:
    """After the guard's checks (registered before this), so a foreign page never gets here."""
    app.register_blueprint(bp)
    app.before_request(require_session)
