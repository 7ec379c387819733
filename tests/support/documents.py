"""Protocol documents as older versions stored them, which must still read."""

from __future__ import annotations

from typing import Any

from flask import Flask

import crypto
import protocol
from tests.support.portal import Caseworker

# A report exactly as reporting/v1 stored them (before reporting/v2 existed).
V1_REPORT: dict[str, Any] = {
    "schema": "reporting/v1", "kind": "report", "written_on": "2026-11-28",
    "categories": ["police_station", "livelihood", "relatives_detained"],
    "narrative": "They called my mother again and asked about my work.",
    "where": {"country": "NL", "city": "Utrecht"},
    "when": {"from": "2025-03", "to": "", "note": ""},
    "who": {"people": "Mr Wang", "affiliation": "", "station_address": ""},
    "family": [{"relation": "mother", "location": "Fuzhou", "what_happened": "questioned"}],
    "attachments": [{"blob": "ab" * 16, "filename": "a.png", "content_type": "image/png",
                     "size": 10}],
    "consent": "anonymised", "reply_language": "zh_Hans", "interface_language": "zh_Hans",
}  # fmt: skip


def stored_report(app: Flask, caseworker: Caseworker) -> dict:
    store = app.extensions["blobs"]
    for blob_id in store.ids():
        plaintext = crypto.decrypt(store.path(blob_id).read_bytes(), [caseworker.identity])
        if plaintext.startswith(b"{"):
            return protocol.read_report(plaintext)
    raise AssertionError("no report document stored")
