"""Run the app on Werkzeug's server for local use, without an access log."""

from __future__ import annotations

import logging
import os
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from reporting import create_app


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs no access lines and never a client's address."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Drop the access line: it would record who visited what, and when."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Keep server errors visible, but without the client's address and timestamp."""
        getattr(logging.getLogger("werkzeug"), type)(message, *args)


def main() -> None:
    """Serve on localhost only: in production Tor or a reverse proxy fronts the app."""
    app = create_app()
    app.run(
        host="127.0.0.1",
        port=int(os.environ.get("PORT", 5000)),
        request_handler=QuietRequestHandler,
    )
