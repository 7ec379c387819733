"""Run the app on Werkzeug's server for local use, without an access log."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from reporting import create_app, migrate
from reporting.cli import bootstrap_demo, demo_instructions


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs no access lines and never a client's address."""

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
    app.run(
        host="127.0.0.1",
        port=int(os.environ.get("PORT", 5000)),
        request_handler=QuietRequestHandler,
    )
