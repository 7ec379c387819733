"""The tables. What they hold in clear is only what the workflow needs (DESIGN.md):
opaque ids, the organisation, coarse dates, status, and references to ciphertext."""

from reporting.models.blob import Blob
from reporting.models.delivery import (
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    PurgeRecord,
)
from reporting.models.message import Attachment, Message, MessageKind
from reporting.models.organisation import Organisation, OrganisationRecipient
from reporting.models.report import Report, ReportStatus

__all__ = [
    "Attachment",
    "Blob",
    "ChannelKind",
    "Delivery",
    "DeliveryChannel",
    "DeliveryState",
    "Message",
    "MessageKind",
    "Organisation",
    "OrganisationRecipient",
    "PurgeRecord",
    "Report",
    "ReportStatus",
]
