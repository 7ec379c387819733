"""Uploads encrypted while they stream in, so no plaintext temp file ever exists.

Werkzeug spools every upload over 500 KB to a temporary file. Our request class
replaces that sink with a `BlobWriter`: each chunk the multipart parser reads is
encrypted to the receiving organisation's keys before it touches the disk. A
sink that is not committed by the view is aborted when the request closes, so a
rejected, oversized or cut-off upload leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from flask import Request, current_app, g, request, session
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, ServiceUnavailable
from werkzeug.formparser import FormDataParser, MultiPartParser

from crypto import Recipient
from reporting.infra import db
from reporting.infra.blobs import BlobStore, BlobWriter
from reporting.models import Organisation, Report
from reporting.organisations.recipients import receiving_organisation, recipients_of
from reporting.web.inputs import not_as_sent

# Session key and endpoint of a follow-up (reporter/views.py), whose files go to its report's
# organisation.
REPORT_ID = "report_id"
FOLLOWUP_ENDPOINT = "reporter.followup"
# The views whose forms take files. A file part sent anywhere else is refused as it
# starts, before a byte of it is kept (or encrypted to the portal's organisation).
UPLOAD_ENDPOINTS = frozenset({"reporter.report", FOLLOWUP_ENDPOINT})


class UploadTooLarge(RequestEntityTooLarge):
    """A 413 whose description says which limit was hit and what to do."""


class NotSetUp(ServiceUnavailable):
    """No organisation to encrypt to: refuse rather than store anything."""


# Werkzeug reads and parses a body 64 KiB at a time; bigger steps cut the Python overhead
# per byte (parser events, encryptor calls). Werkzeug refuses (413) a read that would take
# its parse buffer past MAX_FORM_MEMORY_SIZE, so a step must stay well below that limit.
PARSE_BUFFER_BYTES = 512 * 1024


class LargeBufferFormDataParser(FormDataParser):
    """Werkzeug's form parser, reading a multipart body in larger steps."""

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            buffer_size=PARSE_BUFFER_BYTES,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class EncryptingRequest(Request):
    """A request whose file uploads are encrypted on arrival."""

    form_data_parser_class = LargeBufferFormDataParser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upload_sinks: list[BlobWriter] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if self.endpoint not in UPLOAD_ENDPOINTS:
            raise BadRequest(not_as_sent())
        limits = current_app.config["SETTINGS"].limits
        if len(self.upload_sinks) >= limits.max_files:
            raise UploadTooLarge(
                _("Please send at most %(count)d files at a time.", count=limits.max_files)
            )
        recipients = receiving().recipients
        megabytes = limits.max_file_bytes // (1024 * 1024)
        sink = blob_store().writer(
            recipients,
            max_bytes=limits.max_file_bytes,
            on_too_large=lambda: UploadTooLarge(
                _("Each file can be at most %(mb)d MB. Please send a smaller file.", mb=megabytes)
            ),
        )
        self.upload_sinks.append(sink)
        return sink  # type: ignore[return-value]

    def close(self) -> None:
        """Abort every sink the view did not commit (including after a 413 or a cut)."""
        try:
            super().close()
        finally:
            for sink in self.upload_sinks:
                sink.close()


def blob_store() -> BlobStore:
    """The current app's blob store."""
    store: BlobStore = current_app.extensions["blobs"]
    return store


@dataclass(frozen=True)
class Receiving:
    """Who this request's uploads and documents are encrypted to."""

    organisation: Organisation
    recipients: list[Recipient]


def receiving() -> Receiving:
    """The organisation this request files with, looked up once per request.

    A follow-up goes to the organisation that holds its report; anything else to the
    portal's receiving organisation. The multipart parser asks (for each file) before
    the view runs, so the answer is decided here, for both.
    """
    if "receiving" not in g:
        g.receiving = _load_receiving()
    found: Receiving = g.receiving
    return found


def _load_receiving() -> Receiving:
    organisation = None
    report_id = session.get(REPORT_ID)
    if request.endpoint == FOLLOWUP_ENDPOINT and isinstance(report_id, str):
        report = db.session().get(Report, report_id)
        organisation = report.organisation if report is not None else None
    if organisation is None:
        organisation = receiving_organisation(
            db.session(), current_app.config["SETTINGS"].organisation
        )
    recipients = recipients_of(organisation) if organisation is not None else []
    # The request may now wait minutes for its upload and then for its derivation.
    db.release_connection()
    if organisation is None or not recipients:
        raise NotSetUp(_("This service is not ready to receive reports yet. Please try later."))
    return Receiving(organisation, recipients)
