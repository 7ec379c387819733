"""What every admin view shares: the signed-in admin, rows of their own organisation
only, and committing or refusing a change."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, flash, redirect, url_for
from werkzeug.wrappers import Response
from wtforms import Field

from reporting.accounts.signin import current_caseworker
from reporting.infra import db
from reporting.models import Caseworker
from reporting.organisations.administration import owned
from reporting.organisations.pages.forms import ActionForm

T = TypeVar("T")

# Status codes for refusals: bad input in a form, or a change the current state forbids
# (the last admin, the last key, a channel already disabled).
INVALID = 400
CONFLICT = 409


def admin() -> Caseworker:
    """The signed-in admin (the views are all behind admin_required)."""
    caseworker = current_caseworker()
    if caseworker is None:  # pragma: no cover  (admin_required runs first)
        abort(403)
    return caseworker


def own(model: type[T], row_id: Any) -> T:
    """A row of the admin's organisation, or 404 (another organisation's row included)."""
    row = owned(db.session(), model, row_id, admin().organisation_id)
    if row is None:
        abort(404)
    return row


def require_action() -> None:
    """A button's form must carry the CSRF token (CSRFProtect checks it first; this keeps
    each view honest if that ever changes)."""
    if not ActionForm().validate_on_submit():
        abort(400)


def done(message: str, endpoint: str, **values: Any) -> Response:
    """Commit the change and go back to the page, with what happened."""
    db.session().commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def drop_secret(field: Field) -> None:
    """Never send a pasted private key back in the page that refuses it."""
    if "SECRET-KEY" in str(field.data or "").upper():
        field.data = ""


def refuse(field: Field | None, message: str) -> str:
    """Undo anything the refused change began, and tie the message to its field."""
    db.session().rollback()
    if field is not None:
        field.errors = [*field.errors, message]
    return message
