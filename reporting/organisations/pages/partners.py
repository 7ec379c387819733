"""Admin views for partner organisations: their names and keys, where their escalations
are delivered, and removing them."""

from __future__ import annotations

from typing import Any

from flask import render_template

from reporting.accounts.signin import admin_required
from reporting.infra import db
from reporting.models import Partner
from reporting.organisations import partners
from reporting.organisations.administration import AdminError
from reporting.organisations.pages import bp
from reporting.organisations.pages.common import (
    INVALID,
    admin,
    done,
    drop_secret,
    own,
    refuse,
    require_action,
)
from reporting.organisations.pages.deliveries import add_channel, channel_forms
from reporting.organisations.pages.forms import ActionForm, EmailForm, PartnerForm, WebhookForm


@bp.get("/partners")
@admin_required
def partner_list() -> Any:
    dbs = db.session()
    me = admin()
    rows = [
        (partner, partners.channels_of(dbs, me.organisation_id, partner))
        for partner in partners.partners_of(dbs, me.organisation_id)
    ]
    return render_template("admin/partners.html", rows=rows)


def _new_page(form: PartnerForm | None = None, error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "admin/partner_new.html", form=form or PartnerForm(formdata=None), error=error
    ), status


@bp.get("/partners/new")
@admin_required
def new_partner() -> Any:
    return _new_page()


@bp.post("/partners/new")
@admin_required
def add_partner() -> Any:
    form = PartnerForm()
    valid = form.validate_on_submit()
    keys = form.recipients.data or ""
    drop_secret(form.recipients)
    if not valid:
        return _new_page(form, "Please check the form.", INVALID)
    try:
        partner = partners.save_partner(db.session(), admin(), None, form.name.data or "", keys)
    except AdminError as error:
        field = form.name if error.field == "name" else form.recipients
        return _new_page(form, refuse(field, str(error)), INVALID)
    return done(
        f"{partner.name} was added. Add where their escalations are delivered below.",
        "admin.partner",
        partner_id=partner.id,
    )


def _partner_page(
    partner: Partner,
    form: PartnerForm | None = None,
    webhook: WebhookForm | None = None,
    email: EmailForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    dbs = db.session()
    form = form or PartnerForm(
        formdata=None, data={"name": partner.name, "recipients": partner.recipients}
    )
    return render_template(
        "admin/partner.html",
        partner=partner,
        form=form,
        channels=partners.channels_of(dbs, admin().organisation_id, partner),
        escalations=partners.escalations_to(dbs, partner),
        action=ActionForm(formdata=None),
        error=error,
        **channel_forms(webhook, email),
    ), status


@bp.get("/partners/<int:partner_id>")
@admin_required
def partner(partner_id: int) -> Any:
    return _partner_page(own(Partner, partner_id))


@bp.post("/partners/<int:partner_id>")
@admin_required
def save_partner(partner_id: int) -> Any:
    found = own(Partner, partner_id)
    form = PartnerForm()
    valid = form.validate_on_submit()
    keys = form.recipients.data or ""
    drop_secret(form.recipients)
    if not valid:
        return _partner_page(found, form, error="Please check the form.", status=INVALID)
    try:
        partners.save_partner(db.session(), admin(), found, form.name.data or "", keys)
    except AdminError as error:
        field = form.name if error.field == "name" else form.recipients
        return _partner_page(found, form, error=refuse(field, str(error)), status=INVALID)
    return done(f"{found.name} was saved.", "admin.partner", partner_id=found.id)


@bp.post("/partners/<int:partner_id>/webhook")
@admin_required
def add_partner_webhook(partner_id: int) -> Any:
    found = own(Partner, partner_id)
    return add_channel(found, "webhook", lambda **page: _partner_page(found, **page))


@bp.post("/partners/<int:partner_id>/email")
@admin_required
def add_partner_email(partner_id: int) -> Any:
    found = own(Partner, partner_id)
    return add_channel(found, "email", lambda **page: _partner_page(found, **page))


@bp.post("/partners/<int:partner_id>/delete")
@admin_required
def delete_partner(partner_id: int) -> Any:
    require_action()
    found = own(Partner, partner_id)
    name = found.name
    if partners.delete_partner(db.session(), admin(), found):
        return done(f"{name} was deleted.", "admin.partner_list")
    return done(
        f"{name} has escalations on record, so it is kept; its delivery channels are now "
        "disabled, so nothing more is sent to it.",
        "admin.partner",
        partner_id=partner_id,
    )
