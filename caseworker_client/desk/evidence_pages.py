"""An attachment on the desk: its SHA-256 verdict and a preview made anew, never the file.

The attachment is decrypted in memory (evidence.py): an image is shown as a copy re-encoded
from its pixels, a PDF as images of its pages drawn in a sandbox, anything else not at all.
The pictures are served from this process's memory to the desk's own page (the CSP allows
images from the desk only). The original reaches the disk only through the "Save the
original" form, a POST with its CSRF token, after ORIGINAL_WARNING, into the folder the
caseworker names: nothing else on the desk writes a decrypted file.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from caseworker_client import evidence, render
from caseworker_client.decrypt import AttachmentRef, OpenedMessage
from caseworker_client.desk.desk_state import desk
from caseworker_client.errors import ClientError

bp = Blueprint("evidence", __name__)
KEPT_PREVIEWS = 8  # previews held in memory for their pictures (a PDF's pages are slow)
FILE = "/reports/<report_id>/files/<blob>"


def default_folder() -> Path:
    """Where originals go unless the caseworker names another folder."""
    return Path.home() / "Downloads"


class SaveForm(FlaskForm):  # type: ignore[misc]
    folder = StringField(
        "Save into this folder (on this computer)", validators=[DataRequired(), Length(max=4096)]
    )
    save = SubmitField("I read the warning: save the original")


@dataclass(frozen=True)
class Attachment:
    report_id: str
    message: OpenedMessage
    ref: AttachmentRef


def attachment(report_id: str, blob: str) -> Attachment:
    """The report's attachment stored as `blob` (in any of its messages), or 404."""
    ctx = desk().ctx
    report_id = ctx.report_id(report_id)
    opened = desk().library.opened(ctx, report_id)
    for message in opened.messages:
        for ref in message.attachments:
            if ref.blob == blob:
                return Attachment(report_id, message, ref)
    abort(404)


def _previews() -> OrderedDict[str, evidence.Preview]:
    held: OrderedDict[str, evidence.Preview] = current_app.extensions.setdefault(
        "desk_previews", OrderedDict()
    )
    return held


def preview_of(found: Attachment) -> evidence.Preview:
    """The attachment's preview, made once and kept in memory for its pictures."""
    held = _previews()
    blob = found.ref.blob
    if blob not in held:
        held[blob] = evidence.preview(desk().ctx, found.ref)
        while len(held) > KEPT_PREVIEWS:
            held.popitem(last=False)
    held.move_to_end(blob)
    return held[blob]


def _page(found: Attachment, form: Any, saved: str = "", status: int = 200) -> tuple[str, int]:
    shown: evidence.Preview | None = None
    problem = ""
    try:
        shown = preview_of(found)
    except ClientError as error:  # too large to preview, or not for this key
        problem = str(error)
    ref = found.ref
    page = render_template(
        "desk/evidence.html",
        report_id=found.report_id,
        ref=ref,
        name=render.clean(ref.filename) or "(no name)",
        size=render.human_size(ref.size),
        shown=shown,
        problem=problem or (shown.problem if shown else ""),
        differs=shown is not None and shown.digest.verdict == evidence.DIFFERS,
        warning=evidence.ORIGINAL_WARNING,
        form=form,
        saved=saved,
    )
    return page, status


@bp.get(FILE)
def view(report_id: str, blob: str) -> tuple[str, int]:
    form = SaveForm(formdata=None, folder=str(default_folder()))
    return _page(attachment(report_id, blob), form)


@bp.get(FILE + "/pictures/<int:number>")
def picture(report_id: str, blob: str, number: int) -> Response:
    """One picture of the preview (an image re-encoded, or a PDF page), from memory."""
    shown = preview_of(attachment(report_id, blob))
    if not 0 <= number < len(shown.pictures):
        abort(404)
    made = shown.pictures[number]
    return Response(made.data, mimetype=made.media_type)


@bp.post(FILE + "/save")
def save(report_id: str, blob: str) -> tuple[str, int]:
    found = attachment(report_id, blob)
    form = SaveForm()
    if not form.validate():
        return _page(found, form, status=400)
    folder = Path(form.folder.data.strip()).expanduser()
    if not folder.is_absolute():
        form.folder.errors = ["name the whole folder, from / (or ~ for your home folder)"]
        return _page(found, form, status=400)
    try:
        line = evidence.save_original(desk().ctx, found.message, found.ref, folder)
    except OSError as error:
        form.folder.errors = [f"cannot save there: {error.strerror or error}"]
        return _page(found, form, status=400)
    return _page(found, form, saved=render.clean(line))
