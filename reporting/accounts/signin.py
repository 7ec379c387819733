"""Who the caseworker is: a signed-in web session, or a bearer token of the client.

A session lasts at most `caseworker_session_max_seconds` (2 h) and ends after
30 minutes idle (the sealed session's idle limit). A client's token ends the
same way: its expiry is 30 minutes ahead, moved forward as it is used, never
past 2 hours after login. Raising a caseworker's `auth_epoch` (password change,
disabling) ends every session and token they hold: each carries the epoch it
was made under.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.tokens import new_token, token_digest
from reporting.accounts.session import renew_session
from reporting.infra import db
from reporting.models import ApiToken, Caseworker

CASEWORKER_ID = "cw"
AUTH_EPOCH = "cw_epoch"
SIGNED_IN_AT = "cw_since"
# Half-way through a login: the password was right, the second factor is still to come.
PENDING_ID = "cw_pending"
KEPT_ACROSS_SESSIONS = ("lang",)
TOKEN_PREFIX = "rcw"  # noqa: S105  (a prefix, not a secret)

F = TypeVar("F", bound=Callable[..., Any])


def _now() -> float:
    return time.time()


def utcnow() -> datetime:
    """Naive UTC, as the database stores it."""
    return datetime.fromtimestamp(_now(), UTC).replace(tzinfo=None)


def _limits() -> Any:
    return current_app.config["SETTINGS"].limits


def sign_in(caseworker: Caseworker) -> None:
    """Start a fresh session (new id and CSRF token, the old one revoked) for a caseworker
    who gave their password and a second factor."""
    renew_session(keep=KEPT_ACROSS_SESSIONS)
    session[CASEWORKER_ID] = caseworker.id
    session[AUTH_EPOCH] = caseworker.auth_epoch
    session[SIGNED_IN_AT] = int(_now())


def sign_out() -> None:
    """End the session; a copy of its cookie no longer opens anything."""
    renew_session(keep=KEPT_ACROSS_SESSIONS)


def usable(caseworker: Caseworker | None, epoch: Any) -> bool:
    """Whether an account may act under a session or token made at `epoch`."""
    return (
        caseworker is not None
        and caseworker.active
        and caseworker.auth_epoch == epoch
        and bool(caseworker.password_hash)
        and caseworker.totp_confirmed
    )


def current_caseworker() -> Caseworker | None:
    """The signed-in caseworker of this web request, or None."""
    if "caseworker" in g:
        found: Caseworker | None = g.caseworker
        return found
    g.caseworker = None
    caseworker_id = session.get(CASEWORKER_ID)
    since = session.get(SIGNED_IN_AT)
    if not isinstance(caseworker_id, str) or not isinstance(since, int):
        return None
    if _now() - since > _limits().caseworker_session_max_seconds:
        g.session_expired = True
        return None
    caseworker = db.session().get(Caseworker, caseworker_id)
    if usable(caseworker, session.get(AUTH_EPOCH)):
        g.caseworker = caseworker
    return g.caseworker  # type: ignore[no-any-return]


def login_required(view: F) -> F:
    """Send anyone not signed in to the login page (and back here afterwards)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_caseworker() is None:
            if session.get(CASEWORKER_ID):
                sign_out()  # expired or ended elsewhere: drop what is left of it
            return redirect(url_for("casework.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Like login_required, and only for the organisation's admins (403 otherwise)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        caseworker = current_caseworker()
        if caseworker is None or not caseworker.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# The caseworker client's tokens.


# A token's expiry is moved forward at most once a minute, so use does not mean a write
# per request.
TOKEN_EXTEND_STEP = timedelta(seconds=60)


def token_ends_at(row: ApiToken) -> datetime:
    """The latest a token can last, however much it is used."""
    return row.created_at + timedelta(seconds=_limits().caseworker_session_max_seconds)


def _idle_expiry(row: ApiToken, now: datetime) -> datetime:
    return min(now + timedelta(seconds=_limits().session_idle_seconds), token_ends_at(row))


def issue_token(dbs: Session, caseworker: Caseworker, label: str = "") -> str:
    """A new bearer token for the client; only its digest is stored."""
    token = new_token(TOKEN_PREFIX)
    now = utcnow()
    row = ApiToken(
        caseworker_id=caseworker.id,
        token_hash=token_digest(token),
        label=label[:100],
        auth_epoch=caseworker.auth_epoch,
        created_at=now,
    )
    row.expires_at = _idle_expiry(row, now)
    dbs.add(row)
    dbs.flush()
    return token


def find_token(dbs: Session, token: str) -> ApiToken | None:
    """The live token row for a presented token, or None (unknown, idle too long, past its
    maximum, or revoked)."""
    if not token.startswith(TOKEN_PREFIX + "_") or len(token) > 200:
        return None
    row = dbs.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked or row.expires_at <= now or token_ends_at(row) <= now:
        return None
    if not usable(row.caseworker, row.auth_epoch):
        return None
    return row


def keep_token_alive(dbs: Session, row: ApiToken) -> None:
    """A token in use lives another idle period, up to its maximum: committed at once,
    since a view that only reads never commits."""
    expiry = _idle_expiry(row, utcnow())
    if expiry - row.expires_at < TOKEN_EXTEND_STEP:
        return
    dbs.execute(
        update(ApiToken)
        .where(ApiToken.id == row.id, ApiToken.expires_at < expiry)
        .values(expires_at=expiry)
    )
    dbs.commit()


def revoke_tokens(dbs: Session, caseworker_id: str) -> None:
    """End every token of a caseworker (password change, disabling, or their own request)."""
    dbs.execute(
        update(ApiToken).where(ApiToken.caseworker_id == caseworker_id).values(revoked=True)
    )


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_caseworker() -> Caseworker:
    """The caseworker whose token authorised this API request (after token_required)."""
    caseworker: Caseworker = g.api_caseworker
    return caseworker


def api_token() -> ApiToken:
    token: ApiToken = g.api_token
    return token


def token_required(view: F) -> F:
    """Refuse an API request without a live token with a JSON 401; cookies count for nothing."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        row = find_token(db.session(), token) if token else None
        if row is None:
            response = jsonify(
                error="unauthorized",
                message="A valid token is needed: log in again with `reporting-caseworker login`.",
            )
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="reporting"'
            return response
        keep_token_alive(db.session(), row)
        g.api_token = row
        g.api_caseworker = row.caseworker
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def init_app(app: Any) -> None:
    """Give caseworker and admin templates `current_caseworker`."""

    def inject_caseworker() -> dict[str, Any]:
        if request.blueprint not in ("casework", "admin"):
            return {}
        return {"current_caseworker": current_caseworker()}

    app.context_processor(inject_caseworker)
