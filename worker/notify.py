"""Content-free notices to caseworkers, by e-mail to the organisation's notice address.

"New reports in <organisation>": at most once per interval (the beat runs the task once per
interval; a flag, not a time, says one is due). "An urgent report": at once, when a report
the reporter marked urgent has committed, but at most once per organisation per
`urgent_notice_seconds` (a shared rate-limit counter, not a time in the database), so a
flood of fake urgent reports cannot become a mail bomb; one held back stays due and goes
out with the periodic "notify-urgent" task once the interval has passed. "Some reports
will be deleted soon": with the periodic notice, when the retention purge found reports
nearing the organisation's maximum age. No notice says anything from a report, nor which
report, nor how many.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from reporting.infra.config import DeliverySettings
from reporting.infra.db import Database
from reporting.models import Organisation
from reporting.web.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

FOOTER = (
    "Sign in or pull with the caseworker client to read it.\n"
    "(This notice never contains anything from a report.)\n"
)
URGENT_KEY = "urgent-notice:"  # + the organisation's id: one window per organisation


def _new_reports(organisation: Organisation) -> tuple[str, str]:
    return (
        f"New reports in {organisation.name}",
        f"There is something new for {organisation.name} in the reporting service.\n" + FOOTER,
    )


def _urgent_report(organisation: Organisation) -> tuple[str, str]:
    return (
        f"Urgent report in {organisation.name}",
        f"A reporter marked a report for {organisation.name} as urgent: someone may be in "
        "danger now or within days. It is first in the inbox.\n" + FOOTER,
    )


def _reports_expiring(organisation: Organisation) -> tuple[str, str]:
    return (
        f"Some reports in {organisation.name} will be deleted soon",
        f"Some reports for {organisation.name} will soon reach the organisation's maximum "
        "report age and will then be deleted, whatever their status. Export or act on "
        "anything you need before then.\n" + FOOTER,
    )


def _send_flagged(
    database: Database,
    settings: DeliverySettings,
    flag: InstrumentedAttribute[bool],
    notice: Callable[[Organisation], tuple[str, str]],
    allowed: Callable[[Organisation], bool] = lambda organisation: True,
) -> int:
    """Send `notice` to each organisation whose `flag` is set and that has an address, and
    clear the flag of those it reached; returns how many were sent."""
    if not settings.smtp_url:
        return 0
    from worker.channels.email import parse_smtp_url, send_notification

    smtp = parse_smtp_url(settings.smtp_url)
    sent = 0
    with database.transaction() as db:
        due = list(
            db.scalars(
                select(Organisation)
                .where(flag.is_(True))
                .where(Organisation.notify_email != "")
                .order_by(Organisation.id)
            )
        )
        for organisation in due:
            if not allowed(organisation):
                continue  # held back: stays due
            subject, body = notice(organisation)
            try:
                outcome = send_notification(smtp, organisation.notify_email, subject, body)
            except ValueError as error:  # a bad address must not stop the other notices
                logger.warning("a notice address was refused: %s", error)
                continue
            if outcome.delivered:
                setattr(organisation, flag.key, False)
                sent += 1
            else:
                logger.warning("a notice could not be sent: %s", outcome.error)
    return sent


def send_due_notices(database: Database, settings: DeliverySettings) -> int:
    """Send one notice per organisation with something new, and one per organisation with
    reports near their maximum age; returns how many were sent."""
    return _send_flagged(
        database, settings, Organisation.notification_due, _new_reports
    ) + _send_flagged(database, settings, Organisation.expiry_notice_due, _reports_expiring)


def send_urgent_notices(
    database: Database, settings: DeliverySettings, limiter: RateLimiter
) -> int:
    """Send the "urgent report" notices that are due and that the rate limit allows.

    The window is taken before sending, so a notice the mail server refuses also waits out
    the interval (it stays due): a failing mail server is not hammered either. `limiter` is
    the app's (reporting/web/ratelimit.py): in Redis, shared by every worker process, in
    production; in memory, per process, on the embedded default (one worker process).
    """

    def allowed(organisation: Organisation) -> bool:
        key = URGENT_KEY + organisation.id
        return limiter.hit(key, 1, settings.urgent_notice_seconds)

    return _send_flagged(
        database, settings, Organisation.urgent_notice_due, _urgent_report, allowed
    )
