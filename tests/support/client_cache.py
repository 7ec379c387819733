"""The caseworker client's local cache with a report in it, and its CLI invoked in-process."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from PIL import Image

import crypto
from caseworker_client.cli import main
from caseworker_client.identity import create_identity
from caseworker_client.store import Store
from protocol import AttachmentInfo, encode, followup_document, note_document, report_document
from protocol.padding import padded_size

REPORT_ID = "r3port0000000000000000000001"


NOTE = note_document("Call back on Monday.")


FOLLOWUP = followup_document("They called again.", [])


NARRATIVE = "Two men from the bureau called my mother.\x1b]0;pwned\x07 They said I must return."


def decrypted_report(consent: str = "full", **answers: Any) -> dict[str, Any]:
    """A reporting/v2 document as the client holds it once decrypted, laid out by the field
    catalogue from the form's answers (by form field name)."""
    fields = {
        "narrative": "They called my mother again.",
        "consent": consent,
        "reply_language": "zh_Hans",
        **answers,
    }
    return report_document(fields, [], "zh_Hans")


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90°
    exif.get_ifd(0x8825)[2] = (52.0, 22.0, 1.0)  # GPS latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def seal(plaintext: bytes, keys: list[Any], pad: bytes) -> bytes:
    return crypto.encrypt(plaintext + pad * (padded_size(len(plaintext)) - len(plaintext)), keys)


class Cache:
    """A home folder holding an identity and one pulled report, as `pull` would leave it."""

    def __init__(self, home: Path, consent: str = "anonymised") -> None:
        self.home = home
        create_identity(home / "identity.txt")
        self.identity = crypto.parse_identities((home / "identity.txt").read_text())[0]
        self.store = Store(home / "cache")
        self.photo = jpeg_with_exif()
        self.text_file = b"notes about the call\n"
        self.consent = consent

    def blob(
        self, blob_id: str, plaintext: bytes, pad: bytes, keys: list[Any] | None = None
    ) -> dict[str, Any]:
        ciphertext = seal(plaintext, keys or [self.identity.recipient], pad)
        self.store.blob_path(blob_id).write_bytes(ciphertext)
        return {"blob": blob_id, "size": padded_size(len(plaintext))}

    def write(
        self,
        report_id: str = REPORT_ID,
        country: str = "NL",
        month: str = "2026-11",
        extra: dict[str, Any] | None = None,
    ) -> None:
        files = [
            AttachmentInfo(f"{report_id}p", "../../evil\x1b.jpg", "image/jpeg", len(self.photo)),
            AttachmentInfo(f"{report_id}t", "call.txt", "text/plain", len(self.text_file)),
        ]
        fields = {
            "methods": ["association_or_station", "threats_to_relatives"],
            "narrative": NARRATIVE,
            "country": country,
            "city": "Rotterdam",
            "people": "Mr Wang, +31 6 1234 5678",
            "affiliation": "Fuzhou public security bureau",
            "station_address": "Somewhere street 1",
            "family": [{"relation": "mother", "location": "Fuzhou", "what_happened": "questioned"}],
            "consent": self.consent,
            "reply_language": "zh_Hans",
            **(extra or {}),
        }
        document = report_document(fields, files, "zh_Hans")
        partner_key = crypto.generate_identity().recipient
        messages = [
            {
                "id": "m0", "seq": 0, "kind": "report", "created_on": f"{month}-28",
                "author": None, "partner": None,
                "document": self.blob(f"{report_id}d", encode(document), b" "),
                "attachments": [
                    {"position": 0, **self.blob(files[0].blob, self.photo, b"\0")},
                    {"position": 1, **self.blob(files[1].blob, self.text_file, b"\0")},
                ],
            },
            {
                "id": "m1", "seq": 1, "kind": "followup", "created_on": f"{month}-28",
                "author": None, "partner": None,
                "document": self.blob(f"{report_id}f", encode(FOLLOWUP), b" "),
                "attachments": [],
            },
            {
                "id": "m2", "seq": 2, "kind": "note", "created_on": f"{month}-28",
                "author": "cw1", "partner": None,
                "document": self.blob(f"{report_id}n", encode(NOTE), b" "),
                "attachments": [],
            },
            {
                "id": "m3", "seq": 3, "kind": "escalation", "created_on": f"{month}-28",
                "author": "cw1", "partner": 7,
                "document": self.blob(f"{report_id}e", encode(NOTE), b" ", [partner_key]),
                "attachments": [],
            },
        ]  # fmt: skip
        self.store.save_detail(
            {
                "id": report_id, "received_on": f"{month}-28", "status": "new", "severity": None,
                "assignee": "cw1", "tags": ["family"], "unread": False, "delivery": "none",
                "messages": messages, "consent": self.consent, "reporter_recipient": "age1pq1x",
            }
        )  # fmt: skip
        self.store.save_organisation(
            {
                "caseworkers": [{"id": "cw1", "username": "alice"}],
                "partners": [{"id": 7, "name": "Legal aid"}],
            }
        )


def invoke(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"REPORTING_CASEWORKER_HOME": str(home)})
