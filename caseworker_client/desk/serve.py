"""Running the desk: unlock the identity, bind 127.0.0.1 on a random port, serve until the
terminal closes.

The server runs in the foreground of the terminal that started it: Ctrl+C, closing the
terminal (SIGHUP) or SIGTERM stops it, and with it the decrypted reports held in memory.
Werkzeug's own server, threaded, never its debugger; it logs no request (the one-time
token and report ids are in the URLs).
"""

from __future__ import annotations

import signal
import webbrowser
from collections.abc import Callable
from types import FrameType

from werkzeug.serving import WSGIRequestHandler, make_server

from caseworker_client.context import Context
from caseworker_client.desk import create_app, guard

HOST = "127.0.0.1"


class QuietHandler(WSGIRequestHandler):
    """Logs no request line (its URL may hold the token or a report id)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class Stop(Exception):
    """The terminal closed, or the caseworker asked the desk to stop."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def serve(ctx: Context, echo: Callable[[str], object], open_browser: bool = True) -> None:
    """Serve the desk until the terminal closes or Ctrl+C."""
    ctx.identities  # noqa: B018 - the passphrase is asked once, here, and kept in memory
    admission = guard.Admission()
    app = create_app(ctx, admission)
    server = make_server(HOST, 0, app, threaded=True, request_handler=QuietHandler)
    guard.listen_on(app, server.server_port)
    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, _stop)
    if not ctx.logged_in():
        echo("You are not signed in to the service: the desk opens on its sign-in page.")
    echo(f"The desk is open at {admission.url()}")
    echo("That link works once, in one browser. Keep this terminal open while you work;")
    echo("closing it or pressing Ctrl+C stops the desk.")
    if open_browser:
        webbrowser.open(admission.url())
    try:
        server.serve_forever()
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        server.server_close()
        echo("The desk has stopped.")
