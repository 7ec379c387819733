"""The WSGI app that accepts signed deliveries and stores each one exactly once.

The sender retries until it sees 200 or 409, so this side must make a retry
harmless: the `webhook-id` names the stored file, and `os.link` (which never
overwrites) decides atomically which of two concurrent copies wins. Bodies are
age ciphertext; they are never logged, only written to the store.

The body is held in memory for the HMAC (at most `max_body_bytes`, and about
twice that at the peak), which is simple and fine for one NGO's volume.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from crypto.files import atomic_write
from crypto.webhooks import WebhookSignatureError, decode_secret, verify
from protocol.headers import METADATA_HEADERS

log = logging.getLogger("receiver")

# A leading dot is refused too: it would make hidden files, and "." and ".." are no names.
VALID_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
MAX_HEADER_CHARS = 256
CHUNK = 1024 * 1024


def _text(status: int, body: str) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@dataclass
class Receiver:
    """A WSGI app: POST / with a Standard Webhooks delivery; see make_app."""

    store: Path
    secret: str
    tolerance: int
    clock: Callable[[], float]
    max_body_bytes: int
    fail_rate: float
    hang_rate: float
    hang_seconds: float
    rng: random.Random
    sleep: Callable[[float], None]
    rng_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        decode_secret(self.secret)  # a malformed secret fails now, not on the first delivery

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path != "/":
            response = _text(404, "not found")
        elif request.method != "POST":
            response = _text(405, "only POST / is served")
            response.headers["Allow"] = "POST"
        else:
            response = self.deliver(request)
        return response(environ, start_response)

    def deliver(self, request: Request) -> Response:
        """Check, then store; log one line with only the id and the outcome."""
        message_id = request.headers.get("webhook-id", "")
        shown = message_id if VALID_ID.fullmatch(message_id) else "(invalid id)"
        status, outcome = self._deliver(request, message_id)
        log.info("delivery %s: %d %s", shown, status, outcome)
        return _text(status, outcome)

    def _deliver(self, request: Request, message_id: str) -> tuple[int, str]:
        if not VALID_ID.fullmatch(message_id):
            return 400, "missing or invalid webhook-id"
        timestamp = request.headers.get("webhook-timestamp", "")
        if not timestamp.isascii() or not timestamp.isdigit():
            return 400, "missing or invalid webhook-timestamp"
        if abs(self.clock() - int(timestamp)) > self.tolerance:
            return 400, "webhook-timestamp too far from the current time"
        signature = request.headers.get("webhook-signature", "")
        if not signature:
            return 401, "missing webhook-signature"
        metadata: dict[str, str | int] = {"webhook-id": message_id, "timestamp": int(timestamp)}
        for name in METADATA_HEADERS:
            value = request.headers.get(name)
            if value is not None:
                if len(value) > MAX_HEADER_CHARS:
                    return 400, f"{name} is too long"
                metadata[name] = value
        body = self._read_body(request)
        if body is None:
            return 413, "body too large"
        try:
            verify(
                self.secret, message_id, timestamp, signature, body, self.clock(), self.tolerance
            )
        except WebhookSignatureError:
            return 401, "bad signature"
        if self._chance(self.hang_rate):
            self.sleep(self.hang_seconds)
        if self._chance(self.fail_rate):
            return 500, "injected failure"
        if self._store(message_id, body, metadata):
            return 200, "stored"
        return 409, "already received"

    def _read_body(self, request: Request) -> bytes | None:
        """The whole body, or None if it is larger than allowed."""
        if (request.content_length or 0) > self.max_body_bytes:
            return None
        chunks, size = [], 0
        while chunk := request.stream.read(CHUNK):
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.rng_lock:
            return self.rng.random() < rate

    def _store(self, message_id: str, body: bytes, metadata: dict[str, str | int]) -> bool:
        """Store body and metadata; False if this id is already stored.

        The `.age` link is the commit point. The `.json` follows it (also by link, so
        a duplicate that repairs a missing one after a crash cannot clobber it).
        """
        final = self.store / f"{message_id}.age"
        stored = _link_new(self.store, final, body)
        if not stored and not _same_content(final, body):
            log.warning("delivery %s: a different body under an id already stored", message_id)
        meta = json.dumps(metadata, indent=2, sort_keys=True).encode() + b"\n"
        _link_new(self.store, self.store / f"{message_id}.json", meta)
        return stored


def _link_new(folder: Path, final: Path, data: bytes) -> bool:
    """Write data to `final`, whole and synced, never replacing it; False if it exists."""
    if final.exists():
        return False
    try:
        with atomic_write(final, replace=False) as file:
            file.write(data)
    except FileExistsError:
        return False
    return True


def _same_content(path: Path, body: bytes) -> bool:
    with path.open("rb") as file:
        offset = 0
        while chunk := file.read(CHUNK):
            if chunk != body[offset : offset + len(chunk)]:
                return False
            offset += len(chunk)
    return offset == len(body)


def make_app(
    store: Path,
    secret: str,
    *,
    tolerance: int = 300,
    clock: Callable[[], float] = time.time,
    max_body_bytes: int = 600 * 1024 * 1024,
    fail_rate: float = 0.0,
    hang_rate: float = 0.0,
    hang_seconds: float = 0.0,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Receiver:
    """The receiver app, storing into `store` (created 0700 if missing).

    `fail_rate`, `hang_rate`, `hang_seconds`, `rng` and `sleep` exist for testing
    only: they let a chaos test make valid deliveries fail (500) or hang before
    they are stored, to prove the sender retries and the store still ends up
    with each delivery once. Leave them at their defaults in real use.
    """
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Receiver(
        store,
        secret,
        tolerance=tolerance,
        clock=clock,
        max_body_bytes=max_body_bytes,
        fail_rate=fail_rate,
        hang_rate=hang_rate,
        hang_seconds=hang_seconds,
        rng=rng if rng is not None else random.Random(),  # noqa: S311 (fault injection only)
        sleep=sleep,
    )
