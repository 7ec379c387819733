"""Who may use the desk: only the browser that opened its one-time link, on this machine.

The desk listens on 127.0.0.1 only, yet any web page the caseworker visits could make
their browser send it requests, and a hostile DNS name could be rebound to 127.0.0.1 to
read its answers. So every request must name the desk's own address in its Host header,
and carry the session cookie that the one-time link set (HttpOnly, SameSite=Strict, so
no other site's page sends it); every form also carries a CSRF token (forms.py). Every
answer forbids scripts, framing, other origins, referrers and caching: decrypted pages
must never reach the browser's disk cache.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from flask import session as cookie

bp = Blueprint("guard", __name__)
SESSION_KEY = "desk"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass
class Admission:
    """The run's one-time token, and the secret its session cookie then holds."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_id: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0  # set once the server is bound to its random port
    used: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, offered: str) -> bool:
        """Whether `offered` is the token, the first time only (compared in constant time)."""
        with self._lock:
            if self.used or not hmac.compare_digest(offered.encode(), self.token.encode()):
                return False
            self.used = True
            return True

    def hosts(self) -> tuple[str, ...]:
        return (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/open?token={self.token}"


def listen_on(app: Flask, port: int) -> None:
    """The port the server is bound to: the Host header must name it, and the cookie is
    this run's own (cookies do not tell ports apart, so two desks must not share one)."""
    app.extensions["desk_admission"].port = port
    app.config["SESSION_COOKIE_NAME"] = f"desk-{port}"


def admission() -> Admission:
    found: Admission = current_app.extensions["desk_admission"]
    return found


def refuse(status: int, title: str, explanation: str) -> Response:
    page = render_template("desk/refused.html", title=title, explanation=explanation)
    return Response(page, status, mimetype="text/html")


@bp.get("/open")
def open_desk() -> Response:
    """The one-time link: sets the session cookie and leaves for a URL without the token."""
    if not admission().admit(request.args.get("token", "")):
        return refuse(
            403,
            "This link cannot be used",
            "The desk's link works once only, and this one was used already or is wrong. "
            "Stop the desk in its terminal (Ctrl+C) and start it again for a new link.",
        )
    cookie.clear()
    cookie[SESSION_KEY] = admission().session_id
    return redirect("/", 303)  # type: ignore[return-value]


def check_request() -> Response | None:
    """Refuse a foreign Host, then a request without the desk's session cookie."""
    desk = admission()
    if request.host not in desk.hosts():
        return refuse(
            421,
            "Wrong address",
            "The desk answers only at its own address on this computer "
            f"({desk.hosts()[0]}). Open the link printed in the terminal.",
        )
    if request.endpoint == "guard.open_desk":
        return None
    held = cookie.get(SESSION_KEY)
    if not isinstance(held, str) or not hmac.compare_digest(
        held.encode(), desk.session_id.encode()
    ):
        return refuse(
            403,
            "Open the desk from its link",
            "This browser has not opened the desk's one-time link. Open the link printed in "
            "the terminal where you started `reporting-caseworker desk`, in this browser.",
        )
    return None


def secure_headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    response.headers.pop("ETag", None)
    response.headers.pop("Last-Modified", None)
    return response


def init_app(app: Flask, desk: Admission) -> None:
    app.extensions["desk_admission"] = desk
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        SESSION_COOKIE_NAME="desk-session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=False,  # plain HTTP on 127.0.0.1: the traffic never leaves
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.register_blueprint(bp)
    app.before_request(check_request)
    app.after_request(secure_headers)
