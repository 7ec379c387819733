"""An organisation's triage tags, as its admins define them.

Names are the NGO's own labels ("police station", "family"), unique per organisation
without regard to case, so the inbox and the client never offer two that look alike.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reporting.accounts import audit
from reporting.accounts.audit import Action
from reporting.models import Caseworker, TriageTag, report_tag
from reporting.organisations.administration import AdminError, same_name

MAX_TAG_CHARS = 64


def tags_of(db: Session, organisation_id: str) -> list[tuple[TriageTag, int]]:
    """The organisation's tags by name, each with the number of reports that carry it."""
    uses = (
        select(report_tag.c.tag_id, func.count().label("n"))
        .group_by(report_tag.c.tag_id)
        .subquery()
    )
    rows = db.execute(
        select(TriageTag, func.coalesce(uses.c.n, 0))
        .outerjoin(uses, uses.c.tag_id == TriageTag.id)
        .where(TriageTag.organisation_id == organisation_id)
        .order_by(TriageTag.name)
    )
    return [(tag, int(n)) for tag, n in rows]


def _clean_name(db: Session, organisation_id: str, name: str, keep: TriageTag | None) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_TAG_CHARS or not name.isprintable():
        raise AdminError(f"A tag name is 1 to {MAX_TAG_CHARS} characters, on one line.")
    tags = db.scalars(select(TriageTag).where(TriageTag.organisation_id == organisation_id))
    clash = same_name(tags, name, keep)
    if clash is not None:
        raise AdminError(f"There is already a tag named {clash.name!r}.")
    return name


def add_tag(db: Session, actor: Caseworker, name: str) -> TriageTag:
    tag = TriageTag(
        organisation_id=actor.organisation_id,
        name=_clean_name(db, actor.organisation_id, name, None),
    )
    db.add(tag)
    db.flush()
    audit.record(
        db, Action.ORGANISATION_CHANGE, actor=actor, target=str(tag.id), detail="tag added"
    )
    return tag


def rename_tag(db: Session, actor: Caseworker, tag: TriageTag, name: str) -> None:
    tag.name = _clean_name(db, actor.organisation_id, name, tag)
    audit.record(
        db, Action.ORGANISATION_CHANGE, actor=actor, target=str(tag.id), detail="tag renamed"
    )
    db.flush()


def delete_tag(db: Session, actor: Caseworker, tag: TriageTag) -> None:
    """Delete a tag and take it off every report that carried it."""
    audit.record(
        db, Action.ORGANISATION_CHANGE, actor=actor, target=str(tag.id), detail="tag deleted"
    )
    db.execute(delete(report_tag).where(report_tag.c.tag_id == tag.id))
    db.delete(tag)
    db.flush()
