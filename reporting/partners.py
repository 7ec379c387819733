"""Partner organisations and delivery channels, as an organisation's admins set them up.

A partner is a name and the age recipients its escalations are encrypted to (by the
caseworker client); its channels say where the worker delivers them. The
organisation's own channels (partner_id NULL) carry its new reports. Channels are
checked and secrets made as `flask org add-webhook` / `add-email` do.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crypto import KeyFormatError, parse_recipient
from crypto.webhooks import new_secret
from reporting import audit
from reporting.addresses import check_email_address, check_webhook_url
from reporting.administration import AdminError, same_name, sentence
from reporting.audit import Action
from reporting.models import (
    Caseworker,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    Message,
    Partner,
)

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
        if "SECRET-KEY" in line.upper():
            raise AdminError(
                f"Line {number} is a private key. Never share it: ask the partner for their "
                "public key (age1…) and remove this one from wherever it was copied."
            )
        try:
            recipient = parse_recipient(line)
        except KeyFormatError as error:
            raise AdminError(f"Line {number} is not an age public key ({error}).") from None
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


# Delivery channels.


def _channel_target(channel: DeliveryChannel) -> str:
    return f"channel:{channel.id}"


def _record_channel(db: Session, actor: Caseworker, channel: DeliveryChannel, what: str) -> None:
    owner = f" partner={channel.partner_id}" if channel.partner_id else ""
    audit.record(
        db,
        Action.ORGANISATION_CHANGE,
        actor=actor,
        target=_channel_target(channel),
        detail=f"{channel.kind} {what}{owner}",
    )


def add_webhook(
    db: Session, actor: Caseworker, partner: Partner | None, url: str
) -> tuple[DeliveryChannel, str]:
    """A signed webhook channel with a new secret, returned to be shown once."""
    url = url.strip()
    try:
        check_webhook_url(url)
    except ValueError as error:
        raise AdminError(sentence(error)) from None
    secret = new_secret()
    channel = DeliveryChannel(
        organisation_id=actor.organisation_id,
        kind=ChannelKind.WEBHOOK,
        target=url,
        secret=secret,
        partner_id=partner.id if partner else None,
    )
    db.add(channel)
    db.flush()
    _record_channel(db, actor, channel, "added")
    return channel, secret


def add_email(
    db: Session, actor: Caseworker, partner: Partner | None, address: str
) -> DeliveryChannel:
    """A channel that e-mails the armored ciphertext to a plain address."""
    address = address.strip()
    try:
        check_email_address(address)
    except ValueError as error:
        raise AdminError(sentence(error)) from None
    channel = DeliveryChannel(
        organisation_id=actor.organisation_id,
        kind=ChannelKind.EMAIL,
        target=address,
        partner_id=partner.id if partner else None,
    )
    db.add(channel)
    db.flush()
    _record_channel(db, actor, channel, "added")
    return channel


def set_channel_enabled(
    db: Session, actor: Caseworker, channel: DeliveryChannel, enabled: bool
) -> None:
    if channel.enabled is enabled:
        raise AdminError(f"This channel is already {'enabled' if enabled else 'disabled'}.")
    channel.enabled = enabled
    _record_channel(db, actor, channel, "enabled" if enabled else "disabled")
    db.flush()
