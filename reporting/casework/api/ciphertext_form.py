"""Reading a multipart body of age files made by the client, as it streams in.

The app's request class encrypts uploads to the organisation on arrival
(reporting/intake/uploads.py); an escalation is already encrypted, to a partner, and
must be stored as it is. So its body is parsed here, with sinks that check
each part is an age file (its header as it arrives: plaintext never reaches the
disk) and store it byte for byte. Sinks not committed by the caller are
discarded by `close()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from flask import current_app, request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from crypto import AgeError
from reporting.casework.api.errors import fail
from reporting.infra.blobs import CiphertextWriter
from reporting.intake.uploads import LargeBufferFormDataParser, blob_store
from reporting.web.inputs import Part, misshapen, unreadable


@dataclass
class CiphertextForm:
    form: MultiDict[str, str]
    files: MultiDict[str, FileStorage]
    sinks: list[CiphertextWriter] = field(default_factory=list)

    def writers(self, name: str) -> list[CiphertextWriter]:
        """The sinks of the file parts called `name`, in order."""
        found: list[CiphertextWriter] = []
        for storage in self.files.getlist(name):
            stream: object = storage.stream
            assert isinstance(stream, CiphertextWriter)
            found.append(stream)
        return found

    def close(self) -> None:
        """Discard every part not committed."""
        for sink in self.sinks:
            sink.close()


def read_ciphertext_form(max_parts: int, expected: Mapping[str, Part]) -> CiphertextForm:
    """Parse the request's multipart body into checked, uncommitted ciphertext blobs;
    a JSON 4xx (nothing kept) for anything else, a field in a shape other than
    `expected` (a file as text, text as a file, a single field twice) included."""
    if request.mimetype != "multipart/form-data":
        fail(415, message="Send this as multipart/form-data, with the age files as file parts.")
    limits = current_app.config["SETTINGS"].limits
    sinks: list[CiphertextWriter] = []

    def too_large() -> RequestEntityTooLarge:
        return RequestEntityTooLarge(f"each file can be at most {limits.max_file_bytes:,} bytes")

    def sink_factory(
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if len(sinks) >= max_parts:
            raise RequestEntityTooLarge(f"at most {max_parts} files at a time")
        sink = blob_store().ciphertext_writer(
            max_bytes=limits.max_file_bytes, on_too_large=too_large
        )
        sinks.append(sink)
        return sink  # type: ignore[return-value]

    parser = LargeBufferFormDataParser(
        stream_factory=sink_factory,
        max_form_memory_size=request.max_form_memory_size,
        max_content_length=request.max_content_length,
        max_form_parts=request.max_form_parts,
        cls=MultiDict,
    )
    parsed = CiphertextForm(MultiDict(), MultiDict(), sinks)
    try:
        _, form, files = parser.parse(
            request.stream, request.mimetype, request.content_length, request.mimetype_params
        )
    except AgeError as error:
        parsed.close()
        fail(400, "bad_ciphertext", f"A file is not an age file: {error}. Nothing was stored.")
    except RequestEntityTooLarge as error:
        parsed.close()
        limit = f"the whole request can be at most {request.max_content_length:,} bytes"
        ours = error.description != RequestEntityTooLarge.description
        fail(
            413,
            "too_large",
            f"Too large: {error.description if ours else limit}. Nothing was stored.",
        )
    except BaseException:
        parsed.close()
        raise
    parsed.form = form
    parsed.files = files
    _check_shape(parsed, expected)
    return parsed


def _check_shape(parsed: CiphertextForm, expected: Mapping[str, Part]) -> None:
    """Refuse (and discard every part) what the client never sends."""
    name = misshapen(expected, parsed.form, parsed.files)
    if name is not None:
        parsed.close()
        shape = "file parts" if expected[name].file else "one text field"
        fail(400, message=f"Send {name!r} as {shape}. Nothing was stored.", fields=[name])
    for name, value in parsed.form.items(multi=True):
        if name in expected and unreadable(value):
            parsed.close()
            fail(
                400,
                message=f"The field {name!r} is not readable UTF-8 text. Nothing was stored.",
                fields=[name],
            )
