"""What a reporter changes from /case after sending: urgency, consent, deletion.

Each change is kept on the report's row with the day it was made, and nothing else: no
audit entry (the audit log is the caseworkers' and keeps the hour, which would date the
reporter's visit more closely than the day the service keeps), no reporter identifier.
The caseworkers see the change in the inbox and the API; the organisation's content-free
notices tell them something is there (an immediate one when the report becomes urgent).

Consent may be narrowed or widened: either takes effect at once (the escalation check
reads the row in its own transaction), and either is shown to the caseworkers with its
day, so a widening is never silent. A deletion request closes the report to the codename
at once and refuses any later escalation; the retention purge removes it after the
organisation's delay (worker/retention.py).
"""

from __future__ import annotations

from datetime import date, timedelta

from reporting.infra.db import Database
from reporting.models import Consent, Report
from reporting.models.common import today


def set_urgent(database: Database, report_id: str, urgent: bool) -> bool:
    """Set or clear the urgent flag; True when the report just became urgent, so the caller
    queues the immediate notice once this has committed."""
    with database.transaction() as db:
        report = db.get_one(Report, report_id)
        if report.urgent == urgent:
            return False
        report.urgent = urgent
        report.urgent_changed_on = today()
        organisation = report.organisation
        organisation.notification_due = True
        if urgent:
            organisation.urgent_notice_due = True
        return urgent


def set_consent(database: Database, report_id: str, consent: Consent) -> bool:
    """Replace the reporter's consent to share; True if it changed."""
    with database.transaction() as db:
        report = db.get_one(Report, report_id)
        if report.consent == consent:
            return False
        report.consent = consent
        report.consent_changed_on = today()
        report.organisation.notification_due = True
        return True


def request_deletion(database: Database, report_id: str) -> None:
    """Close the report to its codename and schedule its purge; idempotent."""
    with database.transaction() as db:
        report = db.get_one(Report, report_id)
        if report.deletion_requested_on is None:
            report.deletion_requested_on = today()
            report.organisation.notification_due = True


def open_to_reporter(report: Report) -> bool:
    """Whether the codename still opens the report (not once deletion was asked for)."""
    return report.deletion_requested_on is None


def deletion_due_on(report: Report) -> date | None:
    """The day the purge removes a report whose reporter asked for deletion; None if not asked."""
    if report.deletion_requested_on is None:
        return None
    return report.deletion_requested_on + timedelta(days=report.organisation.deletion_delay_days)
