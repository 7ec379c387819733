"""Admin views for the organisation's keys (who new reports are encrypted to) and its
triage tags."""

from __future__ import annotations

from typing import Any

from flask import render_template

from reporting.accounts.signin import admin_required
from reporting.casework import tags
from reporting.infra import db
from reporting.models import OrganisationRecipient, TriageTag
from reporting.organisations.administration import (
    AdminError,
    add_organisation_key,
    in_use,
    remove_organisation_key,
)
from reporting.organisations.pages import bp
from reporting.organisations.pages.common import (
    CONFLICT,
    INVALID,
    admin,
    done,
    drop_secret,
    own,
    refuse,
    require_action,
)
from reporting.organisations.pages.forms import ActionForm, KeyForm, TagForm

# Keys


def _keys_page(form: KeyForm | None = None, error: str | None = None, status: int = 200) -> Any:
    organisation = admin().organisation
    rows = [(row, in_use(row)) for row in organisation.recipients]
    return render_template(
        "admin/keys.html",
        rows=rows,
        form=form or KeyForm(formdata=None),
        action=ActionForm(formdata=None),
        error=error,
    ), status


@bp.get("/keys")
@admin_required
def keys() -> Any:
    return _keys_page()


@bp.post("/keys")
@admin_required
def add_key() -> Any:
    form = KeyForm()
    valid = form.validate_on_submit()
    text = form.recipient.data or ""
    drop_secret(form.recipient)
    if not valid:
        return _keys_page(form, "Please check the key form.", INVALID)
    try:
        add_organisation_key(db.session(), admin(), text, form.label.data or "")
    except AdminError as error:
        return _keys_page(form, refuse(form.recipient, str(error)), INVALID)
    return done("The key was added: new reports are encrypted to it too.", "admin.keys")


@bp.post("/keys/<int:key_id>/remove")
@admin_required
def remove_key(key_id: int) -> Any:
    require_action()
    row = own(OrganisationRecipient, key_id)
    try:
        remove_organisation_key(db.session(), admin(), row)
    except AdminError as error:
        return _keys_page(error=refuse(None, str(error)), status=CONFLICT)
    return done("The key was removed: new reports are no longer encrypted to it.", "admin.keys")


# Tags


def _rename_form(tag: TriageTag) -> TagForm:
    form = TagForm(formdata=None, prefix=f"tag-{tag.id}", data={"name": tag.name})
    form.name.label.text = f"New name for {tag.name}"
    return form


def _tags_page(
    form: TagForm | None = None,
    error: str | None = None,
    status: int = 200,
    rename: tuple[TriageTag, TagForm] | None = None,
) -> Any:
    """The tags, each with its rename form (the one that failed keeps its input)."""
    rows = [
        (tag, uses, rename[1] if rename and rename[0] is tag else _rename_form(tag))
        for tag, uses in tags.tags_of(db.session(), admin().organisation_id)
    ]
    return render_template(
        "admin/tags.html",
        rows=rows,
        form=form or TagForm(formdata=None, prefix="new"),
        action=ActionForm(formdata=None),
        error=error,
    ), status


@bp.get("/tags")
@admin_required
def triage_tags() -> Any:
    return _tags_page()


@bp.post("/tags")
@admin_required
def add_tag() -> Any:
    form = TagForm(prefix="new")
    if not form.validate_on_submit():
        return _tags_page(form, "Please check the tag name.", INVALID)
    try:
        tag = tags.add_tag(db.session(), admin(), form.name.data or "")
    except AdminError as error:
        return _tags_page(form, refuse(form.name, str(error)), INVALID)
    return done(f"The tag {tag.name!r} was added.", "admin.triage_tags")


@bp.post("/tags/<int:tag_id>/rename")
@admin_required
def rename_tag(tag_id: int) -> Any:
    tag = own(TriageTag, tag_id)
    form = TagForm(prefix=f"tag-{tag_id}")
    if not form.validate_on_submit():
        return _tags_page(error="Please check the new name.", status=INVALID, rename=(tag, form))
    try:
        tags.rename_tag(db.session(), admin(), tag, form.name.data or "")
    except AdminError as error:
        message = refuse(form.name, str(error))
        return _tags_page(error=message, status=INVALID, rename=(tag, form))
    return done(f"The tag is now named {tag.name!r}.", "admin.triage_tags")


@bp.post("/tags/<int:tag_id>/delete")
@admin_required
def delete_tag(tag_id: int) -> Any:
    require_action()
    tag = own(TriageTag, tag_id)
    name = tag.name
    tags.delete_tag(db.session(), admin(), tag)
    return done(f"The tag {name!r} was deleted and taken off every report.", "admin.triage_tags")
