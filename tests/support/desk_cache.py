"""The client cache the desk's pages are shown over: two linked reports carrying a canary,
a report with evidence files, and the caseworker's own folders, scanned after the test
(tests/app/test_desk_pages.py, tests/browser/test_desk_pages.py).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest

from caseworker_client.config import Home, Session
from protocol import AttachmentInfo, encode, report_document
from tests.support.client_cache import Cache

CANARY = "canary-deskpages-7c41d0-金丝雀"  # casefolded: a city is kept casefolded
OTHER_ID = "r3port0000000000000000000002"
EVIDENCE_ID = "r3port0000000000000000000003"
PHONE = "+31 6 1234 5678"  # in both Cache reports' "people involved": they are linked


def own_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The caseworker's home, temporary and working folders, the test's own (scanned after)."""
    made = {name: tmp_path / name for name in ("user home", "tmp", "cwd")}
    for folder in made.values():
        folder.mkdir()
    monkeypatch.setenv("HOME", str(made["user home"]))
    monkeypatch.setenv("TMPDIR", str(made["tmp"]))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.chdir(made["cwd"])
    return made


def linked_cache(folders: dict[str, Path]) -> Cache:
    """Two linked reports (the narrative and a text file carry the canary)."""
    made = Cache(folders["user home"] / "client home", consent="full")
    made.text_file = f"{CANARY} notes about the call\n".encode()
    made.write(extra={"narrative": f"{CANARY} Two men called my mother."})
    made.write(OTHER_ID, month="2026-10")
    # Signed in to a service that does not answer: the desk works from what was pulled.
    Home(made.home).save_session(Session("http://127.0.0.1:9", "alice", "rcw_" + "A" * 43))
    return made


def add_evidence(cache: Cache, files: list[tuple[str, str, bytes, str]]) -> list[str]:
    """A report whose files are (name, type, bytes, SHA-256 recorded at submission)."""
    infos = [
        AttachmentInfo(f"{EVIDENCE_ID}a{i}", name, kind, len(data), recorded)
        for i, (name, kind, data, recorded) in enumerate(files)
    ]
    fields = {"narrative": "The summons they sent.", "consent": "full", "reply_language": "en"}
    document = report_document(fields, infos, "en")
    attachments = [
        {"position": i, **cache.blob(info.blob, data, b"\0")}
        for i, (info, (_, _, data, _)) in enumerate(zip(infos, files, strict=True))
    ]
    message = {
        "id": "e0", "seq": 0, "kind": "report", "created_on": "2026-11-20", "author": None,
        "partner": None, "document": cache.blob(f"{EVIDENCE_ID}d", encode(document), b" "),
        "attachments": attachments,
    }  # fmt: skip
    cache.store.save_detail(
        {
            "id": EVIDENCE_ID, "received_on": "2026-11-20", "status": "new", "severity": None,
            "assignee": None, "tags": [], "unread": False, "delivery": "none",
            "messages": [message], "consent": "full", "reporter_recipient": "age1pq1x",
        }
    )  # fmt: skip
    return [info.blob for info in infos]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
