"""What the server and the caseworker's and NGO's tools agree on.

The document kinds the service encrypts (one builder and one strict reader
each), the schema names, Padmé padding, day-precision dates and the delivery
header names. It imports only the standard library and `crypto/`, so the
caseworker client and the NGO receiver can use it without the server's
dependencies (Flask, SQLAlchemy, Celery, psycopg).
"""

from protocol.dates import parse_day, today
from protocol.documents import (
    AttachmentInfo,
    encode,
    escalation_document,
    followup_document,
    note_document,
    reply_document,
    report_document,
    status_note_document,
)
from protocol.padding import MIN_BUCKET, padded_size, padme
from protocol.readers import (
    decode,
    read,
    read_escalation,
    read_followup,
    read_note,
    read_reply,
    read_report,
    read_status_note,
)
from protocol.schema import (
    CONSENTS,
    KINDS,
    KNOWN_SCHEMAS,
    SCHEMA,
    SCHEMA_V1,
    SCHEMA_V2,
    DocumentError,
)

__all__ = [
    "CONSENTS",
    "KINDS",
    "KNOWN_SCHEMAS",
    "MIN_BUCKET",
    "SCHEMA",
    "SCHEMA_V1",
    "SCHEMA_V2",
    "AttachmentInfo",
    "DocumentError",
    "decode",
    "encode",
    "escalation_document",
    "followup_document",
    "note_document",
    "padded_size",
    "padme",
    "parse_day",
    "read",
    "read_escalation",
    "read_followup",
    "read_note",
    "read_reply",
    "read_report",
    "read_status_note",
    "reply_document",
    "report_document",
    "status_note_document",
    "today",
]
