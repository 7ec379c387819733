"""Triage: the organisation's reports as caseworkers list and sort them, and the metadata
they set (status, severity, assignee, tags, a status note for the reporter).

Shared by the web inbox and the JSON API, so both list, scope and validate the same
way. Everything here is metadata the NGO sets or the server already keeps in clear;
the status note is encrypted on arrival, like a reporter's submission.
"""

from reporting.casework.triage.apply import (
    MAX_NOTE_CHARS,
    apply_triage,
    replace_status_note,
)
from reporting.casework.triage.changes import update_triage
from reporting.casework.triage.common import UNSET, TriageError
from reporting.casework.triage.listing import (
    Counts,
    Filters,
    ReportSummary,
    colleagues,
    find_report,
    list_reports,
    locate_blob,
    mark_read,
    parse_filters,
    record_download,
    summarise,
    tag_names,
)

__all__ = [
    "MAX_NOTE_CHARS",
    "UNSET",
    "Counts",
    "Filters",
    "ReportSummary",
    "TriageError",
    "apply_triage",
    "colleagues",
    "find_report",
    "list_reports",
    "locate_blob",
    "mark_read",
    "parse_filters",
    "record_download",
    "replace_status_note",
    "summarise",
    "tag_names",
    "update_triage",
]
