"""Admin views for delivery: the organisation's own channels, retention and notices;
adding channels (shared with the partner pages); and dead deliveries to retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, render_template

from reporting.accounts.signin import admin_required
from reporting.infra import db
from reporting.infra.queue import send_deliveries
from reporting.models import Delivery, DeliveryChannel, DeliveryState, Partner
from reporting.organisations import partners
from reporting.organisations.administration import (
    AdminError,
    dead_deliveries,
    retry_dead_deliveries,
    update_settings,
)
from reporting.organisations.pages import bp
from reporting.organisations.pages.common import (
    CONFLICT,
    INVALID,
    admin,
    done,
    own,
    refuse,
    require_action,
)
from reporting.organisations.pages.forms import ActionForm, EmailForm, SettingsForm, WebhookForm

# Pages that list channels re-render through one of these on a refused change.
Page = Callable[..., Any]


def channel_forms(webhook: WebhookForm | None, email: EmailForm | None) -> dict[str, Any]:
    return {
        "webhook": webhook or WebhookForm(formdata=None, prefix="webhook"),
        "email": email or EmailForm(formdata=None, prefix="email"),
    }


def add_channel(partner: Partner | None, kind: str, page: Page) -> Any:
    """Add a webhook (with the secret its receiver made) or an e-mail channel."""
    dbs = db.session()
    me = admin()
    endpoint, values = (
        ("admin.partner", {"partner_id": partner.id}) if partner else ("admin.delivery", {})
    )
    if kind == "webhook":
        webhook = WebhookForm(prefix="webhook")
        valid = webhook.validate_on_submit()
        if not valid:
            return page(webhook=webhook, error="Please check the webhook.", status=INVALID)
        try:
            channel = partners.add_webhook(
                dbs,
                me.organisation_id,
                partner,
                webhook.url.data or "",
                webhook.secret.data or "",
                actor=me,
            )
        except AdminError as error:
            field = webhook.secret if error.field == "secret" else webhook.url
            return page(webhook=webhook, error=refuse(field, str(error)), status=INVALID)
        return done(
            f"Deliveries will go to {channel.target}, signed with the receiver's secret. "
            "The secret is not shown again.",
            endpoint,
            **values,
        )
    email = EmailForm(prefix="email")
    if not email.validate_on_submit():
        return page(email=email, error="Please check the e-mail address.", status=INVALID)
    try:
        channel = partners.add_email(
            dbs, me.organisation_id, partner, email.address.data or "", actor=me
        )
    except AdminError as error:
        return page(email=email, error=refuse(email.address, str(error)), status=INVALID)
    return done(f"Deliveries will be e-mailed (encrypted) to {channel.target}.", endpoint, **values)


def _delivery_page(
    webhook: WebhookForm | None = None,
    email: EmailForm | None = None,
    settings: SettingsForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    me = admin()
    organisation = me.organisation
    settings = settings or SettingsForm(
        formdata=None,
        prefix="settings",
        data={
            "retention_days": organisation.retention_days,
            "deletion_delay_days": organisation.deletion_delay_days,
            "max_report_age_days": organisation.max_report_age_days,
            "notify_email": organisation.notify_email,
        },
    )
    return render_template(
        "admin/delivery.html",
        channels=partners.channels_of(db.session(), me.organisation_id, None),
        settings=settings,
        action=ActionForm(formdata=None),
        error=error,
        **channel_forms(webhook, email),
    ), status


@bp.get("/delivery")
@admin_required
def delivery() -> Any:
    return _delivery_page()


@bp.post("/delivery/webhook")
@admin_required
def add_own_webhook() -> Any:
    return add_channel(None, "webhook", _delivery_page)


@bp.post("/delivery/email")
@admin_required
def add_own_email() -> Any:
    return add_channel(None, "email", _delivery_page)


@bp.post("/delivery/settings")
@admin_required
def save_settings() -> Any:
    form = SettingsForm(prefix="settings")
    if not form.validate_on_submit():
        return _delivery_page(settings=form, error="Please check the settings.", status=INVALID)
    try:
        actor = admin()
        changed = update_settings(
            db.session(),
            actor.organisation,
            actor,
            form.retention_days.data or 0,
            form.notify_email.data or "",
            deletion_delay_days=form.deletion_delay_days.data,
            max_report_age_days=form.max_report_age_days.data,
        )
    except AdminError as error:
        return _delivery_page(
            settings=form, error=refuse(form.notify_email, str(error)), status=INVALID
        )
    return done("Settings saved." if changed else "Nothing changed.", "admin.delivery")


def _toggle(channel_id: int, enabled: bool) -> Any:
    require_action()
    channel = own(DeliveryChannel, channel_id)
    try:
        partners.set_channel_enabled(db.session(), admin(), channel, enabled)
    except AdminError as error:
        return _delivery_page(error=refuse(None, str(error)), status=CONFLICT)
    state = "enabled" if enabled else "disabled: nothing new is sent through it"
    if channel.partner_id is not None:
        return done(f"The channel is {state}.", "admin.partner", partner_id=channel.partner_id)
    return done(f"The channel is {state}.", "admin.delivery")


@bp.post("/channels/<int:channel_id>/enable")
@admin_required
def enable_channel(channel_id: int) -> Any:
    return _toggle(channel_id, True)


@bp.post("/channels/<int:channel_id>/disable")
@admin_required
def disable_channel(channel_id: int) -> Any:
    return _toggle(channel_id, False)


# Dead deliveries


def _dead_page(error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "admin/dead.html",
        rows=dead_deliveries(db.session(), admin().organisation),
        action=ActionForm(formdata=None),
        error=error,
    ), status


@bp.get("/deliveries/dead")
@admin_required
def dead() -> Any:
    return _dead_page()


def _retry(delivery_ids: list[str] | None) -> Any:
    dbs = db.session()
    ids = retry_dead_deliveries(dbs, admin(), delivery_ids)
    dbs.commit()
    # After the commit, so a worker finds the rows pending; if the broker is down, the
    # periodic sweep queues them instead.
    send_deliveries(ids)
    return done(f"{len(ids)} deliveries will be tried again.", "admin.dead")


@bp.post("/deliveries/dead/retry")
@admin_required
def retry_all() -> Any:
    require_action()
    return _retry(None)


@bp.post("/deliveries/<delivery_id>/retry")
@admin_required
def retry_one(delivery_id: str) -> Any:
    require_action()
    found = db.session().get(Delivery, delivery_id)
    if found is None or found.channel.organisation_id != admin().organisation_id:
        abort(404)
    if found.state is not DeliveryState.DEAD:
        return _dead_page("That delivery is no longer dead: it is being tried again.", CONFLICT)
    return _retry([delivery_id])
