"""The session, sealed into its cookie: unreadable and tamper-proof, kept by nobody else.

The session is the only cookie the reporter side sets. It may carry the
reporter's reply key while they read replies, so it is encrypted (Flask's
default cookie is only signed) and nothing of it is stored on the server but
its random id once it has ended (reporting/accounts/revocation.py). A session idle for
longer than the limit is dropped when it next arrives, and logging out
replaces it with nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from flask import Flask, Request, Response, current_app, g, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from crypto import SecretBox
from crypto.instance_keys import SESSION_COOKIE, derive_instance_key
from crypto.tokens import new_secret_hex
from reporting.accounts import revocation

_ACTIVITY_KEY = "_t"
SESSION_ID = "_sid"


class SealedSession(CallbackDict[str, Any], SessionMixin):
    """A dict that remembers whether it changed, like Flask's own session."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        expired: bool = False,
        unverified: bool = False,
    ) -> None:
        def on_update(session: SealedSession) -> None:
            session.modified = True
            session.accessed = True

        super().__init__(initial, on_update)
        self.modified = False
        self.accessed = False
        # True when the cookie carried a session that ran out, so views can say so.
        self.expired = expired
        # True when the cookie could not be checked against the ended sessions.
        self.unverified = unverified


class SealedSessionInterface(SessionInterface):
    """Seal the session with ChaCha20-Poly1305 under a key derived from SECRET_KEY."""

    def __init__(self, secret_key: str, idle_seconds: int, clock: Any = time.time) -> None:
        self._box = SecretBox(derive_instance_key(secret_key, SESSION_COOKIE), "session")
        self._idle = idle_seconds
        self._clock = clock

    def open_session(self, app: Flask, request: Request) -> SealedSession:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return SealedSession()
        data = self._unseal(cookie)
        if data is None:
            return SealedSession()
        last_activity = data.pop(_ACTIVITY_KEY, 0)
        if not isinstance(last_activity, int | float) or (
            self._clock() - last_activity > self._idle
        ):
            return SealedSession(expired=True)
        session_id = data.get(SESSION_ID)
        if not isinstance(session_id, str):
            return SealedSession()
        try:
            if revocation.lookup(session_id):
                return SealedSession()
        except revocation.RevocationsUnreadable:
            # Refused, but marked: a form sent now fails its CSRF check because the
            # database is down, and the page must say that, not "the form expired".
            return SealedSession(unverified=True)
        return SealedSession(data)

    def _unseal(self, cookie: str) -> dict[str, Any] | None:
        try:
            sealed = base64.urlsafe_b64decode(cookie.encode("ascii") + b"==")
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
        plaintext = self._box.open(sealed)
        if plaintext is None:
            return None
        try:
            data = json.loads(plaintext)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if not session:
            if session.modified or getattr(session, "expired", False):
                response.delete_cookie(name, domain=domain, path=path)
            return
        if not isinstance(session.get(SESSION_ID), str):
            session[SESSION_ID] = new_secret_hex(16)
        # Every response that carries a session renews it, so idleness is what ends it.
        payload = json.dumps({**session, _ACTIVITY_KEY: int(self._clock())}, separators=(",", ":"))
        sealed = self._box.seal(payload.encode("utf-8"))
        response.vary.add("Cookie")
        response.set_cookie(
            name,
            base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii"),
            domain=domain,
            path=path,
            httponly=True,
            secure=self.get_cookie_secure(app) or _is_https(),
            samesite="Strict",
        )


def renew_session(keep: tuple[str, ...] = ()) -> None:
    """Replace the session with a fresh one (new id, new CSRF token), keeping only `keep`.

    The old id is revoked, so a copy of the old cookie, or a replay of the request
    that led here, no longer opens a session or passes the CSRF check.
    """
    kept = {key: session[key] for key in keep if key in session}
    old_id = session.get(SESSION_ID)
    if isinstance(old_id, str):
        revocation.revoke(old_id)
    session.clear()
    session.update(kept)
    # Flask-WTF caches this request's signed token; a page drawn after this needs the new one.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _is_https() -> bool:
    from flask import request

    return request.is_secure


def init_app(app: Flask) -> None:
    """Replace Flask's signed cookie with the sealed one."""
    settings = app.config["SETTINGS"]
    app.session_interface = SealedSessionInterface(
        app.config["SECRET_KEY"], settings.limits.session_idle_seconds
    )
