"""gunicorn's threaded worker, hardened against slow clients (deploy/gunicorn.conf.py).

Fifty connections sending one byte every two seconds used to hold every gunicorn thread, in
the request head or in a POST body, so no reporter was served. Here:

- The worker's main loop, not a thread, reads each request's head and the first
  `BODY_START_BYTES` of its body (all of a small form), without blocking: hundreds of slow
  connections cost a buffer each and no thread. Whoever has not sent that much within
  `HEAD_SECONDS` (and `BODY_START_SECONDS` more for the body's start) is closed with a 408.
- Only then does a thread take the request. While the app reads the rest of the body, the
  client must keep up an average of `MIN_BODY_BYTES_PER_SECOND` after a grace period of
  `BODY_GRACE_SECONDS` (an honest upload over Tor stays far above it and may stall for a
  while); otherwise the read fails with `BodyTooSlow`, the reporter's page says the upload
  was too slow and nothing was stored, and the connection is closed.

Nothing is spooled to disk: a body reaches the app as it arrives, as before. This subclasses
gunicorn internals (`ThreadWorker.enqueue_req`, `murder_pending`, the parser's unreader), so
pyproject.toml pins the gunicorn versions it was tested with.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker

from reporting.web.errors import BodyTooSlow

HEAD_SECONDS = 10.0
BODY_START_SECONDS = 10.0
BODY_START_BYTES = 32 * 1024
MAX_HEAD_BYTES = 64 * 1024
MIN_BODY_BYTES_PER_SECOND = 2 * 1024
BODY_GRACE_SECONDS = 10.0

_END_OF_HEAD = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,20})[ \t]*\r\n", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.I)
_EXPECT_CONTINUE = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue", re.I)
_TOO_SLOW_TEXT = b"The request arrived too slowly. Nothing was stored. Please try again.\n"
_TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_TOO_SLOW_TEXT), _TOO_SLOW_TEXT)
)


class PacedUnreader(SocketUnreader):  # type: ignore[misc]  # gunicorn has no types
    """Reads the body for the app, refusing a client that averages below the minimum rate."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.restart()

    def restart(self) -> None:
        """A new request: its own grace period and count."""
        self.started = time.monotonic()
        self.received = 0
        self.too_slow = False

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.too_slow:
            raise BodyTooSlow()
        owed_by = self.started + BODY_GRACE_SECONDS + self.received / MIN_BODY_BYTES_PER_SECOND
        remaining = owed_by - time.monotonic()
        before = self.sock.gettimeout()
        if before is not None:
            remaining = min(remaining, before)
        if remaining <= 0:
            return self._refuse()
        self.sock.settimeout(remaining)
        try:
            data: bytes = super().chunk(size_hint)
        except TimeoutError:
            return self._refuse()
        finally:
            self.sock.settimeout(before)
        self.received += len(data)
        return data

    def _refuse(self) -> bytes:
        self.too_slow = True
        raise BodyTooSlow()


class _Head:
    """What the main loop has read of a connection's next request."""

    def __init__(self, buffered: bytes) -> None:
        self.data = bytearray(buffered)
        self.deadline = time.monotonic() + HEAD_SECONDS
        self.wanted: int | None = None  # head + body start, once the head is complete
        self.chunked = False
        self.expects_continue = False

    def complete(self) -> bool:
        """Whether the head and enough of the body (or all of it) are here."""
        if self.wanted is None:
            end = self.data.find(_END_OF_HEAD)
            if end < 0:
                return False
            head = bytes(self.data[: end + 2])
            self.chunked = bool(_CHUNKED.search(head))
            self.expects_continue = bool(_EXPECT_CONTINUE.search(head))
            self.wanted = end + len(_END_OF_HEAD) + _body_start(head, self.chunked)
            self.deadline = time.monotonic() + BODY_START_SECONDS
        if self.chunked and self.data.endswith(b"0\r\n\r\n"):
            return True
        return len(self.data) >= self.wanted


def _body_start(head: bytes, chunked: bool) -> int:
    """How much of the body to wait for in the main loop: all of a small one."""
    if chunked:
        return BODY_START_BYTES
    found = _CONTENT_LENGTH.search(head)
    return min(int(found.group(1)), BODY_START_BYTES) if found else 0


class DeadlineThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, with request heads read in the main loop under a deadline (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading_heads: deque[Any] = deque()

    def enqueue_req(self, conn: Any) -> None:
        """Every path to a thread comes here: only a connection with its head goes on."""
        if getattr(conn, "head_ready", False):
            conn.head_ready = False
            super().enqueue_req(conn)
            return
        buffered = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.head = _Head(buffered)
        if conn.head.complete():
            self._hand_over(conn)
            return
        conn.sock.setblocking(False)
        self.reading_heads.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: Any, _sock: Any) -> None:
        head: _Head = conn.head
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data or len(head.data) + len(data) > MAX_HEAD_BYTES + BODY_START_BYTES:
            self._drop(conn)
            return
        had_head = head.wanted is not None
        head.data += data
        if head.complete():
            self.poller.unregister(conn.sock)
            self.reading_heads.remove(conn)
            self._hand_over(conn)
        elif not had_head and head.wanted is not None and head.expects_continue:
            self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")

    def _hand_over(self, conn: Any) -> None:
        """The head is here: give it back to gunicorn's parser and let a thread serve it."""
        conn.sock.setblocking(True)
        conn.init()
        unreader = conn.parser.unreader
        if not isinstance(unreader, PacedUnreader):
            unreader = conn.parser.unreader = PacedUnreader(conn.sock)
        unreader.restart()
        unreader.unread(bytes(conn.head.data))
        conn.head = None
        conn.data_ready = True
        conn.head_ready = True
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        """Also close connections whose head (or body start) is late; runs every second."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.reading_heads if c.head.deadline <= now]:
            self.poller.unregister(conn.sock)
            self.reading_heads.remove(conn)
            self._send(conn, _TOO_SLOW)
            self._close(conn)

    def _drop(self, conn: Any) -> None:
        self.poller.unregister(conn.sock)
        self.reading_heads.remove(conn)
        self._close(conn)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    @staticmethod
    def _send(conn: Any, data: bytes) -> None:
        """Best effort, never blocking: a client that does not read gets nothing."""
        with contextlib.suppress(OSError):
            conn.sock.send(data)
