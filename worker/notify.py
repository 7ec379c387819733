"""Content-free notices to caseworkers: "new reports in <organisation>", at most once per
interval (the beat runs this task once per interval; a flag, not a time, says one is due)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from reporting.infra.config import DeliverySettings
from reporting.infra.db import Database
from reporting.models import Organisation

logger = logging.getLogger(__name__)


def send_due_notices(database: Database, settings: DeliverySettings) -> int:
    """Send one notice per organisation with something new; returns how many were sent."""
    if not settings.smtp_url:
        return 0
    from worker.channels.email import parse_smtp_url, send_notification

    smtp = parse_smtp_url(settings.smtp_url)
    sent = 0
    with database.transaction() as db:
        due = list(
            db.scalars(
                select(Organisation)
                .where(Organisation.notification_due.is_(True))
                .where(Organisation.notify_email != "")
            )
        )
        for organisation in due:
            try:
                outcome = send_notification(
                    smtp,
                    organisation.notify_email,
                    f"New reports in {organisation.name}",
                    (
                        f"There is something new for {organisation.name} in the reporting "
                        "service.\nSign in or pull with the caseworker client to read it.\n"
                        "(This notice never contains anything from a report.)\n"
                    ),
                )
            except ValueError as error:  # a bad address must not stop the other notices
                logger.warning("a notice address was refused: %s", error)
                continue
            if outcome.delivered:
                organisation.notification_due = False
                sent += 1
            else:
                logger.warning("a notice could not be sent: %s", outcome.error)
    return sent
