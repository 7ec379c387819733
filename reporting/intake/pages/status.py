"""How each report status is named and explained to the reporter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reporting.models import ReportStatus

LABELS = {
    ReportStatus.NEW: (
        _l("Received"),
        _l("Your report has arrived safely. A caseworker will read it soon."),
    ),
    ReportStatus.TRIAGED: (
        _l("Being reviewed"),
        _l("A caseworker is reading your report and deciding how to help."),
    ),
    ReportStatus.IN_PROGRESS: (
        _l("Being worked on"),
        _l("Caseworkers are working on your report. Please read any replies below."),
    ),
    ReportStatus.ESCALATED: (
        _l("Shared with a partner"),
        _l("Your report was shared with a partner organisation, as you allowed."),
    ),
    ReportStatus.CLOSED: (
        _l("Closed"),
        _l("We have finished working on this report. You can still add information."),
    ),
}
