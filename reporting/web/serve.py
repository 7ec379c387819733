"""Run the app on Werkzeug's server for local use, without an access log."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from reporting import create_app
from reporting.infra import migrate
from reporting.infra.operator_commands import bootstrap_demo, demo_instructions
from reporting.web.last_resort import page_headers, render_page


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs no access lines, never a client's address, and sends no
    `Server` banner (it would name Werkzeug's and Python's versions)."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """The standard library's, less the `Server` line."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request the server itself refuses (a broken request line, say) gets our page,
        not the standard library's, which quotes the request back in English."""
        # Only the request's parsing calls this (the app's own errors are the app's pages).
        page = render_page(server_error=False)
        self.close_connection = True
        self.send_response(code)
        for name, value in page_headers(page):
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code not in (204, 304):
            self.wfile.write(page)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Drop the access line: it would record who visited what, and when."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Keep server errors visible, but without the client's address and timestamp."""
        getattr(logging.getLogger("werkzeug"), type)(message, *args)


def main() -> None:
    """Serve on localhost only: in production Tor or a reverse proxy fronts the app.

    This is the embedded default of `make run`: it brings the database schema up to
    date and, on an empty database, sets up a demo organisation and key to try it with.
    """
    app = create_app()
    migrate.upgrade(app.config["SETTINGS"].database_url)
    key_path = bootstrap_demo(app)
    if key_path is not None:
        print(demo_instructions(app, key_path), file=sys.stderr, flush=True)
    worker = start_worker()
    # A supervisor's SIGTERM must also stop the worker, not leave it running on its own.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        app.run(
            host="127.0.0.1",
            port=int(os.environ.get("PORT", 5000)),
            request_handler=QuietRequestHandler,
        )
    finally:
        stop_worker(worker)


def start_worker() -> subprocess.Popen[bytes] | None:
    """The delivery worker (with its beat) as a separate process, as in production; by
    module name, since the web app never imports the worker. REPORTING_NO_WORKER=1 skips it."""
    if os.environ.get("REPORTING_NO_WORKER") == "1":
        return None
    return subprocess.Popen([sys.executable, "-m", "worker"])


def stop_worker(worker: subprocess.Popen[bytes] | None) -> None:
    """Warm shutdown: the worker finishes or gives back what it holds."""
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
