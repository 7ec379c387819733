"""Writing deliveries in the submission's transaction, and queueing them after it commits.

A report is delivered because its Delivery rows exist, not because a message
reached the broker: if Redis is down when the report arrives, the rows wait
and the worker's periodic sweep queues them once it is back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reporting.infra.db import Database
from reporting.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Message,
    Organisation,
    Partner,
)


def plan_deliveries(
    db: Session, organisation: Organisation, message: Message, blob_ids: Sequence[str]
) -> list[Delivery]:
    """One delivery per enabled channel of the organisation's own and per blob (the
    document first, then the files). Partners' channels never carry reports.

    The built-in inbox needs none: the caseworker side reads the stored rows directly.
    """
    channels = db.scalars(
        select(DeliveryChannel)
        .where(DeliveryChannel.organisation_id == organisation.id)
        .where(DeliveryChannel.partner_id.is_(None))
        .where(DeliveryChannel.enabled.is_(True))
        .order_by(DeliveryChannel.id)
    ).all()
    deliveries = _deliveries(channels, message, blob_ids)
    db.add_all(deliveries)
    organisation.notification_due = True
    return deliveries


def partner_channels(db: Session, partner: Partner) -> list[DeliveryChannel]:
    """The enabled channels that carry escalations to a partner."""
    return list(
        db.scalars(
            select(DeliveryChannel)
            .where(DeliveryChannel.organisation_id == partner.organisation_id)
            .where(DeliveryChannel.partner_id == partner.id)
            .where(DeliveryChannel.enabled.is_(True))
            .order_by(DeliveryChannel.id)
        )
    )


def plan_escalation(
    db: Session, partner: Partner, message: Message, blob_ids: Sequence[str]
) -> list[Delivery]:
    """One delivery per enabled channel of the partner and per blob: an escalation goes to
    the partner only, never to the organisation's own channels."""
    deliveries = _deliveries(partner_channels(db, partner), message, blob_ids)
    db.add_all(deliveries)
    return deliveries


def _deliveries(
    channels: Sequence[DeliveryChannel], message: Message, blob_ids: Sequence[str]
) -> list[Delivery]:
    return [
        Delivery(
            channel_id=channel.id,
            report_id=message.report_id,
            message_id=message.id,
            blob_id=blob_id,
            part=part,
        )
        for channel in channels
        for part, blob_id in enumerate(blob_ids)
    ]


def retry_dead(database: Database, delivery_ids: Sequence[str] | None = None) -> list[str]:
    """An operator's retry: dead deliveries (all, or the given ones) start over.

    Returns the ids to queue once this has committed.
    """
    with database.transaction() as db:
        return reset_dead(db, delivery_ids)


def reset_dead(db: Session, delivery_ids: Sequence[str] | None = None) -> list[str]:
    """`retry_dead` in the caller's transaction (an admin's retry is audited in it)."""
    query = select(Delivery.id).where(Delivery.state == DeliveryState.DEAD)
    if delivery_ids is not None:
        query = query.where(Delivery.id.in_(list(delivery_ids)))
    ids = list(db.scalars(query))
    if ids:
        db.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(
                state=DeliveryState.PENDING,
                attempts=0,
                due_at=None,
                lease_until=None,
                lease_token=None,
                swept=True,  # queued by the caller; a lost message is picked up next sweep
            )
        )
    return ids
