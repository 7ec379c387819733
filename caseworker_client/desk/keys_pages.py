"""The keys the desk encrypts to (pins.py): those pinned, and for each that changed on the
server, the pinned and the new fingerprints side by side with a form to accept the new
ones once the caseworker has compared them with their owner over another channel.

The form posts back the fingerprints it showed: pins.accept pins nothing if the server's
keys changed again since. An action refused with KeyChanged (a reply, a note, an
escalation) is explained on a page of its own that leads here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Length

from caseworker_client import pins
from caseworker_client.desk.desk_state import desk
from caseworker_client.errors import ClientError

bp = Blueprint("keys", __name__)
DONE = {"accepted": "The new keys are trusted now: the desk encrypts to them from here on."}


class AcceptForm(FlaskForm):  # type: ignore[misc]
    subject = HiddenField(validators=[DataRequired(), Length(max=200)])
    accept = SubmitField("I compared them with their owner: accept the new keys")


@dataclass(frozen=True)
class Changed:
    change: pins.Change
    rows: list[tuple[str, str, bool]]
    form: AcceptForm


def _changed(change: pins.Change) -> Changed:
    return Changed(change, pins.compared(change), AcceptForm(formdata=None, subject=change.subject))


@bp.get("/keys")
def keys() -> str:
    ctx = desk().ctx
    warning = ""
    try:
        changed = [_changed(change) for change in pins.changes(ctx)]
    except ClientError as error:  # offline: the pins are still known here
        warning = f"Could not ask the server for its keys now, so changes are not shown: {error}"
        changed = []
    try:
        pinned = pins.pinned(ctx)
    except ClientError as error:
        warning = str(error)
        pinned = []
    changed_subjects = {c.change.subject for c in changed}
    return render_template(
        "desk/keys.html",
        pinned=[(pin, pins.fingerprints(pin.keys)) for pin in pinned],
        changed=changed,
        changed_subjects=changed_subjects,
        warning=warning,
        done=DONE.get(request.args.get("done", ""), ""),
    )


@bp.post("/keys/accept")
def accept() -> Response | tuple[str, int]:
    form = AcceptForm()
    seen = [value.strip() for value in request.form.getlist("seen") if value.strip()]
    if not form.validate() or not seen:
        message = "The form did not say which keys you compared. Nothing was changed."
        page = render_template(
            "desk/error.html",
            title="Nothing was changed",
            message=message,
            back=url_for("keys.keys"),
        )
        return page, 400
    pins.accept(desk().ctx, form.subject.data, seen)
    return redirect(url_for("keys.keys", done="accepted"), 303)


@bp.app_errorhandler(pins.KeyChanged)
def key_changed(error: pins.KeyChanged) -> tuple[str, int]:
    """Nothing was encrypted: say why, show both fingerprints, and lead to the Keys page."""
    page = render_template(
        "desk/key_changed.html", change=error.change, rows=pins.compared(error.change)
    )
    return page, 409
