"""Partner organisations and delivery channels, as an organisation's admins set them up.

A partner is a name and the age recipients its escalations are encrypted to (by the
caseworker client); its channels say where the worker delivers them. The
organisation's own channels (partner_id NULL) carry its new reports. The admin pages
and `flask org add-webhook` / `add-email` make channels through the same functions here.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crypto.webhooks import WebhookSignatureError, check_secret
from reporting.accounts import audit
from reporting.accounts.audit import Action
from reporting.delivery.addresses import (
    IPNetwork,
    check_email_address,
    check_webhook_destination,
    parse_networks,
)
from reporting.infra.config import Settings
from reporting.models import (
    Caseworker,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    Message,
    Partner,
)
from reporting.organisations.administration import (
    AdminError,
    record_organisation_change,
    same_name,
    sentence,
)
from reporting.organisations.recipients import KeyRefused, parse_public_key

MAX_RECIPIENTS = 50


def partners_of(db: Session, organisation_id: str) -> list[Partner]:
    return list(
        db.scalars(
            select(Partner).where(Partner.organisation_id == organisation_id).order_by(Partner.name)
        )
    )


def channels_of(
    db: Session, organisation_id: str, partner: Partner | None
) -> list[DeliveryChannel]:
    """The organisation's own channels (partner None), or one partner's."""
    query = select(DeliveryChannel).where(DeliveryChannel.organisation_id == organisation_id)
    if partner is None:
        query = query.where(DeliveryChannel.partner_id.is_(None))
    else:
        query = query.where(DeliveryChannel.partner_id == partner.id)
    return list(db.scalars(query.order_by(DeliveryChannel.id)))


def parse_partner_recipients(text: str) -> list[str]:
    """The partner's public keys, one a line, canonical and without repeats.

    A secret key is refused without being echoed back; the keys must be of one kind,
    since age refuses to encrypt a file to post-quantum and classic keys together.
    """
    keys: list[str] = []
    kinds: set[bool] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            recipient = parse_public_key(line)
        except KeyRefused as refused:
            raise AdminError(f"Line {number}: {refused.message}") from None
        if str(recipient) not in keys:
            keys.append(str(recipient))
            kinds.add(recipient.post_quantum)
    if not keys:
        raise AdminError("Give at least one public key (age1…) of the partner, one a line.")
    if len(kinds) > 1:
        raise AdminError(
            "These keys mix post-quantum (age1pq1…) and classic (age1…) kinds; age cannot "
            "encrypt to both at once. Give keys of one kind."
        )
    if len(keys) > MAX_RECIPIENTS:
        raise AdminError(f"At most {MAX_RECIPIENTS} keys per partner.")
    return keys


def save_partner(
    db: Session, actor: Caseworker, partner: Partner | None, name: str, recipients: str
) -> Partner:
    """Add a partner (partner None) or change one's name and keys."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 200:
        raise AdminError("A partner's name is 1 to 200 characters.", "name")
    others = db.scalars(select(Partner).where(Partner.organisation_id == actor.organisation_id))
    clash = same_name(others, name, partner)
    if clash is not None:
        raise AdminError(f"There is already a partner named {clash.name!r}.", "name")
    keys = "\n".join(parse_partner_recipients(recipients))
    added = partner is None
    if partner is None:
        partner = Partner(organisation_id=actor.organisation_id, name=name, recipients=keys)
        db.add(partner)
    else:
        partner.name, partner.recipients = name, keys
    db.flush()
    detail = f"partner {'added' if added else 'changed'} keys={keys.count(chr(10)) + 1}"
    audit.record(
        db, Action.ORGANISATION_CHANGE, actor=actor, target=f"partner:{partner.id}", detail=detail
    )
    return partner


def escalations_to(db: Session, partner: Partner) -> int:
    count = db.scalar(
        select(func.count()).select_from(Message).where(Message.partner_id == partner.id)
    )
    return int(count or 0)


def delete_partner(db: Session, actor: Caseworker, partner: Partner) -> bool:
    """Delete a partner no escalation refers to (True); otherwise keep it for the record
    and disable its channels, so nothing more goes to it (False)."""
    channel_ids = [c.id for c in channels_of(db, actor.organisation_id, partner)]
    used = escalations_to(db, partner) > 0 or (
        bool(channel_ids)
        and db.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.channel_id.in_(channel_ids))
        )
    )
    target = f"partner:{partner.id}"
    if used:
        db.execute(
            update(DeliveryChannel)
            .where(DeliveryChannel.partner_id == partner.id)
            .values(enabled=False)
        )
        audit.record(
            db,
            Action.ORGANISATION_CHANGE,
            actor=actor,
            target=target,
            detail="partner channels disabled",
        )
        db.flush()
        return False
    audit.record(
        db, Action.ORGANISATION_CHANGE, actor=actor, target=target, detail="partner deleted"
    )
    for channel in channels_of(db, actor.organisation_id, partner):
        db.delete(channel)
    db.flush()
    db.delete(partner)
    db.flush()
    return True


# Delivery channels: made here for the admin pages and for `flask org add-webhook` /
# `add-email` alike, so both check the same things and record the same audit entry.


def _channel_target(channel: DeliveryChannel) -> str:
    return f"channel:{channel.id}"


def _record_channel(
    db: Session, actor: Caseworker | None, channel: DeliveryChannel, what: str
) -> None:
    owner = f" partner={channel.partner_id}" if channel.partner_id else ""
    record_organisation_change(
        db,
        actor,
        channel.organisation_id,
        f"{channel.kind} {what}{owner}",
        target=_channel_target(channel),
    )


def _allowed_networks() -> tuple[IPNetwork, ...]:
    settings: Settings = current_app.config["SETTINGS"]
    return parse_networks(settings.delivery.allowed_networks)


def _add_channel(
    db: Session,
    organisation_id: str,
    partner: Partner | None,
    kind: ChannelKind,
    target: str,
    secret: str,
    actor: Caseworker | None,
) -> DeliveryChannel:
    channel = DeliveryChannel(
        organisation_id=organisation_id,
        kind=kind,
        target=target,
        secret=secret,
        partner_id=partner.id if partner else None,
    )
    db.add(channel)
    db.flush()
    _record_channel(db, actor, channel, "added")
    return channel


def add_webhook(
    db: Session,
    organisation_id: str,
    partner: Partner | None,
    url: str,
    secret: str,
    actor: Caseworker | None = None,
) -> DeliveryChannel:
    """A signed webhook channel to the NGO's receiver, with the secret that receiver made.

    The secret is made where it is kept, on the receiver (`reporting-ngo-receiver
    --new-secret FILE`), and handed to the admin once; the service stores it to sign
    deliveries and never shows it again. The URL must lead where the worker may deliver
    (reporting/delivery/addresses.py), so a channel that could only fail is refused here.
    """
    url = url.strip()
    try:
        check_webhook_destination(url, _allowed_networks())
    except ValueError as error:
        raise AdminError(sentence(error), "url") from None
    try:
        secret = check_secret(secret)
    except WebhookSignatureError as error:
        raise AdminError(
            f"{sentence(error)} Paste the whsec_… secret that `reporting-ngo-receiver "
            "--new-secret FILE` made on the receiver's machine.",
            "secret",
        ) from None
    return _add_channel(db, organisation_id, partner, ChannelKind.WEBHOOK, url, secret, actor)


def add_email(
    db: Session,
    organisation_id: str,
    partner: Partner | None,
    address: str,
    actor: Caseworker | None = None,
) -> DeliveryChannel:
    """A channel that e-mails the armored ciphertext to a plain address."""
    address = address.strip()
    try:
        check_email_address(address)
    except ValueError as error:
        raise AdminError(sentence(error), "address") from None
    return _add_channel(db, organisation_id, partner, ChannelKind.EMAIL, address, "", actor)


def set_channel_enabled(
    db: Session, actor: Caseworker, channel: DeliveryChannel, enabled: bool
) -> None:
    if channel.enabled is enabled:
        raise AdminError(f"This channel is already {'enabled' if enabled else 'disabled'}.")
    channel.enabled = enabled
    _record_channel(db, actor, channel, "enabled" if enabled else "disabled")
    db.flush()
