"""The tables. What they hold in clear is only what the workflow needs (docs/design.md):
opaque ids, the organisation, coarse dates, status, and references to ciphertext."""

from reporting.models.audit import AuditEntry
from reporting.models.blob import Blob
from reporting.models.caseworker import ApiToken, Caseworker, LoginThrottle, RecoveryCode, Role
from reporting.models.delivery import (
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    PurgeRecord,
)
from reporting.models.kept_upload import KeptUpload
from reporting.models.message import REPORTER_VISIBLE, Attachment, Message, MessageKind
from reporting.models.organisation import Organisation, OrganisationRecipient
from reporting.models.partner import Partner
from reporting.models.place import Place
from reporting.models.report import Consent, Report, ReportStatus
from reporting.models.session import RevokedSession
from reporting.models.triage import ReportRead, Severity, TriageTag, report_tag

__all__ = [
    "REPORTER_VISIBLE",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Blob",
    "Caseworker",
    "ChannelKind",
    "Consent",
    "Delivery",
    "DeliveryChannel",
    "DeliveryState",
    "KeptUpload",
    "LoginThrottle",
    "Message",
    "MessageKind",
    "Organisation",
    "OrganisationRecipient",
    "Partner",
    "Place",
    "PurgeRecord",
    "RecoveryCode",
    "Report",
    "ReportRead",
    "ReportStatus",
    "RevokedSession",
    "Role",
    "Severity",
    "TriageTag",
    "report_tag",
]
