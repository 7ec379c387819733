"""gunicorn settings for the reporting service: loopback only, no access log, nothing about
clients, and the caseworker side kept off the reporter's onion.

Run with `gunicorn -c deploy/gunicorn.conf.py "reporting:create_app()"` (the systemd unit
deploy/systemd/reporting-web.service does). `flask doctor` reads this file to check that
the access log stays off and that nothing listens beyond loopback.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

# Tor connects here; never listen publicly. The reporter onion forwards to the first address,
# the caseworker onion (with client authorization) to the second: see deploy/torrc. With
# two or more addresses the first one answers 404 for the caseworker side (see below).
bind = ["127.0.0.1:8000", "127.0.0.1:8001"]

# Two processes (one per vCPU of a small server), each with threads: an upload over Tor holds
# a thread for minutes while it trickles in, so threads, not processes, carry the concurrency.
# Threads are cheap here: a codename's Argon2id (64 MiB) runs in each process's derivation
# pool (reporting/intake/derivations.py, one per core), so memory is bounded by workers x pool x
# 64 MiB, not by the thread count.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 64
# gthread with slow clients kept off the threads: each request's head (and the start of its
# body) is read by the worker's main loop within a deadline, and the rest of a body must
# keep up a minimum average rate; slower clients get a 408 and are closed. Nothing is
# spooled to disk. See reporting/web/gunicorn_worker.py for the figures.
worker_class = "reporting.web.gunicorn_worker.DeadlineThreadWorker"
# With threads (gunicorn's gthread worker) this is the worker's heartbeat, not a request
# deadline: a slow upload in a thread does not count against it, a stuck process does.
timeout = 120
# On a restart (an upgrade), uploads in progress get this long to finish; the systemd unit's
# TimeoutStopSec is longer.
graceful_timeout = 120
keepalive = 5

# An access line would record who came, when and what they asked for: none is written.
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "info"
# Forwarded headers are not trusted: the app never learns or stores a client address.
forwarded_allow_ips = ""
proxy_allow_ips = ""
# gunicorn 25.1+ opens a control socket (worker count, reload, shutdown) in $HOME or
# $XDG_RUNTIME_DIR: systemd already manages the service, so no second way in.
control_socket_disable = True

# Paths of the caseworker side: web pages, the admin pages and the caseworker client's API.
STAFF_PREFIXES = ("/casework", "/admin", "/api")


class ReporterListener:
    """WSGI middleware: on the reporter's listener the caseworker side does not exist.

    Anyone can reach the reporter onion, so its login page and API would be open to password
    guessing from the whole Tor network; behind the caseworker onion's client authorization
    they are reachable only by holders of an authorised key. gunicorn sets SERVER_PORT from
    the socket a request arrived on (never from the Host header), so this cannot be spoofed.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], reporter_port: int) -> None:
        self.app = app
        self.reporter_port = str(reporter_port)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("SERVER_PORT") == self.reporter_port and is_staff(environ["PATH_INFO"]):
            body = b"Not Found\n"
            start_response(
                "404 Not Found",
                [
                    ("Content-Type", "text/plain"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                    ("X-Content-Type-Options", "nosniff"),
                ],
            )
            return [body]
        return self.app(environ, start_response)


def is_staff(path: str) -> bool:
    """Whether a (decoded) path is on the caseworker side; "//api" counts, as routing merges
    slashes."""
    path = "/" + "/".join(part for part in path.split("/") if part)
    return any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


def post_worker_init(worker: Any) -> None:
    """Wrap the app once it is loaded, when more than one address is bound; and answer the
    requests gunicorn itself refuses with our page (gunicorn's quotes the request back and
    is in English only)."""
    import gunicorn.util

    from reporting.web.last_resort import write_server_error

    gunicorn.util.write_error = write_server_error
    addresses = worker.cfg.address
    if len(addresses) > 1 and isinstance(addresses[0], tuple):
        worker.wsgi = ReporterListener(worker.wsgi, addresses[0][1])


# No Server header at all, so nothing helps fingerprint the service (gunicorn has no setting
# for it, and sends "Server: gunicorn" by default): responses are made by this method.
import gunicorn.http.wsgi  # noqa: E402

_default_headers = gunicorn.http.wsgi.Response.default_headers


def _without_server_header(response: Any) -> list[str]:
    return [h for h in _default_headers(response) if not h.lower().startswith("server:")]


gunicorn.http.wsgi.Response.default_headers = _without_server_header
