"""The local cache: report metadata as the server last gave it, and the ciphertext pulled.

Only ciphertext and the server's own metadata are kept; plaintext exists in
memory while a command runs, or in the files the caseworker asks `show --save`
to write. Names come from the server, so they are checked before they become
paths: a hostile server must not write outside the cache.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from caseworker_client.config import ConfigError, private_folder, write_private
from caseworker_client.errors import ClientError

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")


class StoreError(ClientError):
    """Something in the cache or from the server that cannot be used as it is."""


def checked_id(value: object, what: str) -> str:
    """An id from the server, refused unless it is a plain token (it becomes a file name)."""
    if not isinstance(value, str) or not _SAFE_ID.match(value):
        raise StoreError(f"the server sent a {what} id that is not a plain name: {value!r}")
    return value


class Store:
    """The cache folder of one home: reports/<id>.json, blobs/<id>.age, index and organisation."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, name: str) -> Path:
        return private_folder(self.root / name)

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise ConfigError(f"{path} is damaged; delete it and run `pull` again") from None

    def _write_json(self, path: Path, data: Any) -> None:
        write_private(path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))

    # -- report metadata ------------------------------------------------------------------------

    def save_detail(self, detail: dict[str, Any]) -> None:
        """Keep a report's detail (summary, messages and the reporter's public key)."""
        report_id = checked_id(detail.get("id"), "report")
        self._write_json(self._folder("reports") / f"{report_id}.json", detail)

    def load_detail(self, report_id: str) -> dict[str, Any] | None:
        detail: dict[str, Any] | None = self._read_json(
            self.root / "reports" / f"{checked_id(report_id, 'report')}.json"
        )
        return detail

    def details(self) -> list[dict[str, Any]]:
        """Every pulled report's detail, oldest first."""
        folder = self.root / "reports"
        found = [self._read_json(path) for path in sorted(folder.glob("*.json"))]
        return sorted(
            (d for d in found if isinstance(d, dict)),
            key=lambda d: (str(d.get("received_on", "")), str(d.get("id", ""))),
        )

    def save_index(self, listing: dict[str, Any]) -> None:
        """The server's last list of reports (summaries only)."""
        self._write_json(private_folder(self.root) / "index.json", listing)

    def load_index(self) -> dict[str, Any] | None:
        index: dict[str, Any] | None = self._read_json(self.root / "index.json")
        return index

    def save_organisation(self, organisation: dict[str, Any]) -> None:
        self._write_json(private_folder(self.root) / "organisation.json", organisation)

    def load_organisation(self) -> dict[str, Any] | None:
        organisation: dict[str, Any] | None = self._read_json(self.root / "organisation.json")
        return organisation

    def known_ids(self) -> list[str]:
        """Ids of reports known locally: pulled ones and those in the last list."""
        ids = {path.stem for path in (self.root / "reports").glob("*.json")}
        for summary in (self.load_index() or {}).get("reports", []):
            if isinstance(summary, dict) and isinstance(summary.get("id"), str):
                ids.add(summary["id"])
        return sorted(ids)

    # -- ciphertext -----------------------------------------------------------------------------

    def blob_path(self, blob_id: str) -> Path:
        return self._folder("blobs") / f"{checked_id(blob_id, 'blob')}.age"

    def has_blob(self, blob_id: str) -> bool:
        return self.blob_path(blob_id).is_file()

    def scratch(self) -> Path:
        """A folder for files being built for upload (ciphertext only)."""
        return self._folder("outgoing")


def blobs_of(detail: dict[str, Any]) -> list[str]:
    """Every blob id a report's detail refers to: documents and attachments."""
    ids: list[str] = []
    for message in detail.get("messages") or []:
        document = message.get("document") or {}
        if document.get("blob"):
            ids.append(checked_id(document["blob"], "blob"))
        for attachment in message.get("attachments") or []:
            if attachment.get("blob"):
                ids.append(checked_id(attachment["blob"], "blob"))
    return ids


def resolve(prefix: str, ids: list[str]) -> str | None:
    """The one id starting with `prefix`; None if none does; StoreError if several do."""
    prefix = prefix.strip()
    if not prefix:
        raise StoreError("give a report id (or the start of one)")
    if prefix in ids:
        return prefix
    matches = [i for i in ids if i.startswith(prefix)]
    if len(matches) > 1:
        shown = ", ".join(m[:12] for m in matches[:5])
        raise StoreError(f"{prefix!r} matches several reports ({shown}…); give more characters")
    return matches[0] if matches else None
