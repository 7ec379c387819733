"""Login and logout, invitations with TOTP enrolment, and the caseworker's own account page.

Views translate HTTP to the plain functions of reporting/accounts/caseworkers.py and back;
each commits what those functions did, refusals included (failed logins count).
"""

from __future__ import annotations

from typing import Any

import segno
from flask import abort, flash, redirect, render_template, request, session, url_for
from markupsafe import Markup
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from crypto import totp
from reporting.accounts import caseworker_keys, caseworkers, logins, signin
from reporting.accounts.audit import Action, record
from reporting.accounts.caseworkers import AccountError
from reporting.accounts.session import renew_session
from reporting.casework.pages import bp
from reporting.casework.pages.account_forms import (
    ChangePasswordForm,
    CodeForm,
    KeyForm,
    LoginForm,
    NewPasswordForm,
    RecoveryCodesForm,
    RevokeTokenForm,
)
from reporting.infra import db
from reporting.models import Caseworker
from reporting.organisations.recipients import KeyRefused

# Half-way through an invitation: the password is set, the authenticator not yet confirmed.
ENROLLING_ID = "cw_enrolling"
ENROLLING_EPOCH = "cw_enrolling_epoch"
SAFE_NEXT_PREFIXES = ("/casework", "/admin")


def safe_next(target: str | None) -> str:
    """Where to go after login: a local casework or admin path, else the inbox."""
    if target and not target.startswith("//") and "\\" not in target and target.isprintable():
        for prefix in SAFE_NEXT_PREFIXES:
            if target == prefix or target.startswith((prefix + "/", prefix + "?")):
                return request.script_root + target
    try:
        return url_for("casework.inbox")
    except BuildError:  # the inbox is not there yet
        return request.script_root + "/casework/"


def _refused(form: LoginForm, message: str, status: int) -> tuple[str, int]:
    form.code.data = ""
    return render_template("casework/login.html", form=form, refusal=message), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    target = safe_next(request.args.get("next"))
    if request.method == "GET" and signin.current_caseworker() is not None:
        return redirect(target)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("casework/login.html", form=form), status
    dbs = db.session()
    try:
        credentials = logins.Credentials(
            form.organisation.data or "",
            form.username.data or "",
            form.password.data or "",
            form.code.data or "",
        )
        caseworker = logins.attempt_login(dbs, credentials, signin.utcnow())
    except AccountError as error:
        dbs.commit()  # the failure counts towards the lock, and is audited
        locked = str(error) == caseworkers.LOCKED
        return _refused(form, str(error), 429 if locked else 403)
    dbs.commit()
    signin.sign_in(caseworker)
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    caseworker = signin.current_caseworker()
    if caseworker is not None:
        dbs = db.session()
        record(dbs, Action.LOGOUT, actor=caseworker, target=caseworker.id)
        dbs.commit()
    signin.sign_out()
    flash("You are logged out.", "success")
    return redirect(url_for("casework.login"))


# Invitations: set a password, then enrol the authenticator app, then see recovery codes.


def _invitation_invalid() -> tuple[str, int]:
    return render_template("casework/invite_invalid.html"), 404


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Any:
    dbs = db.session()
    caseworker = caseworkers.find_invited(dbs, token)
    if caseworker is None:
        return _invitation_invalid()
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            caseworkers.accept_invite(dbs, caseworker, form.password.data or "")
        except AccountError as error:
            dbs.rollback()
            form.password.errors = [str(error)]
        else:
            dbs.commit()
            renew_session(keep=signin.KEPT_ACROSS_SESSIONS)
            session[ENROLLING_ID] = caseworker.id
            session[ENROLLING_EPOCH] = caseworker.auth_epoch
            return redirect(url_for("casework.enrol"))
    status = 400 if form.is_submitted() else 200
    return render_template("casework/invite.html", form=form, caseworker=caseworker), status


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG markup: no script, no style attribute, no data: URI (CSP)."""
    code = segno.make(text, error="m")
    svg = code.svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code of your authenticator secret"
    )
    return Markup(svg)  # noqa: S704  (segno's markup of our own URI)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    dbs = db.session()
    caseworker = caseworkers.enrolling(dbs, session.get(ENROLLING_ID), session.get(ENROLLING_EPOCH))
    if caseworker is None:
        return _invitation_invalid()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = caseworkers.finish_enrolment(dbs, caseworker, form.code.data or "")
        except AccountError as error:
            dbs.rollback()
            form.code.errors = [str(error)]
        else:
            dbs.commit()
            session.pop(ENROLLING_ID, None)
            session.pop(ENROLLING_EPOCH, None)
            return render_template("casework/recovery_codes.html", codes=codes, enrolled=True)
    form.code.data = ""
    uri = caseworkers.totp_uri(caseworker)
    secret = caseworkers.totp_secret(caseworker) or b""
    status = 400 if form.is_submitted() else 200
    return render_template(
        "casework/enrol.html",
        form=form,
        caseworker=caseworker,
        qr=qr_svg(uri),
        uri=uri,
        secret=totp.secret_text(secret),
    ), status


# The caseworker's own account.


def _me() -> Caseworker:
    caseworker = signin.current_caseworker()
    assert caseworker is not None  # login_required ran first
    return caseworker


def _account_page(status: int = 200, **forms: Any) -> tuple[str, int]:
    caseworker = _me()
    dbs = db.session()
    return render_template(
        "casework/account.html",
        caseworker=caseworker,
        key=caseworkers.own_key(dbs, caseworker),
        tokens=caseworkers.live_tokens(dbs, caseworker),
        password_form=forms.get("password_form") or ChangePasswordForm(prefix="password"),
        key_form=forms.get("key_form") or KeyForm(prefix="key"),
        recovery_form=forms.get("recovery_form") or RecoveryCodesForm(prefix="recovery"),
    ), status


@bp.get("/account")
@signin.login_required
def account() -> Any:
    return _account_page()


def _confirmed(form: ChangePasswordForm | KeyForm | RecoveryCodesForm) -> bool:
    """Whether the form is valid and its current password right. A wrong one is committed
    (it counts towards the lock, so a borrowed session cannot guess) and shown on the field."""
    if not form.validate_on_submit():
        return False
    dbs = db.session()
    try:
        logins.reauthenticate(dbs, _me(), form.current.data or "", signin.utcnow())
    except AccountError as error:
        dbs.commit()
        form.current.errors = [str(error)]
        return False
    return True


@bp.post("/account/password")
@signin.login_required
def change_password() -> Any:
    form = ChangePasswordForm(prefix="password")
    if _confirmed(form):
        caseworker, dbs = _me(), db.session()
        try:
            caseworkers.change_password(dbs, caseworker, form.password.data or "")
        except AccountError as error:
            dbs.rollback()
            form.password.errors = [str(error)]
        else:
            dbs.commit()
            signin.sign_in(caseworker)  # a fresh session under the new epoch; others end
            flash("Your password is changed. Your other sessions and API tokens ended.", "success")
            return redirect(url_for("casework.account"))
    return _account_page(400, password_form=form)


@bp.post("/account/key")
@signin.login_required
def change_key() -> Any:
    form = KeyForm(prefix="key")
    if _confirmed(form):
        dbs = db.session()
        try:
            caseworker_keys.register_recipient(dbs, _me(), form.recipient.data or "")
        except KeyRefused as error:
            dbs.rollback()
            form.recipient.errors = [error.message]
        else:
            dbs.commit()
            flash("Your public key is registered: new reports are encrypted to it.", "success")
            return redirect(url_for("casework.account"))
    form.recipient.data = ""  # never echo what was pasted: it may be a secret key
    return _account_page(400, key_form=form)


@bp.post("/account/recovery-codes")
@signin.login_required
def renew_recovery_codes() -> Any:
    form = RecoveryCodesForm(prefix="recovery")
    if _confirmed(form):
        dbs = db.session()
        codes = caseworkers.renew_recovery_codes(dbs, _me())
        dbs.commit()
        return render_template("casework/recovery_codes.html", codes=codes, enrolled=False)
    return _account_page(400, recovery_form=form)


@bp.post("/account/tokens/<int:token_id>/revoke")
@signin.login_required
def revoke_token(token_id: int) -> Any:
    if not RevokeTokenForm(prefix="revoke").validate_on_submit():
        abort(400)
    dbs = db.session()
    if not caseworkers.revoke_own_token(dbs, _me(), token_id):
        abort(404)
    dbs.commit()
    flash("The token is revoked: the client that held it must log in again.", "success")
    return redirect(url_for("casework.account"))
