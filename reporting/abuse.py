"""Limits on submissions and codename attempts, without knowing who anyone is.

Nothing identifies a reporter, so limits are counted per session (a random id
kept in the encrypted session cookie) and for the whole instance. The per-
session limit stops an honest double-send and casual scripts; the instance
limit caps what a flood can cost (each codename check is 64 MiB of Argon2id).
"""

from __future__ import annotations

from flask import current_app, session
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from crypto.tokens import new_secret_hex
from reporting.ratelimit import limiter

# Survives session renewals, so renewing a session does not reset its counters.
ABUSE_ID = "abuse_id"
CODENAME_ATTEMPTS_PER_SESSION = 10
CODENAME_ATTEMPTS_PER_INSTANCE = 600


class RateLimited(TooManyRequests):
    """A 429 that says what to do."""


def _session_key(kind: str) -> str:
    if not isinstance(session.get(ABUSE_ID), str):
        session[ABUSE_ID] = new_secret_hex(16)
    return f"{kind}:session:{session[ABUSE_ID]}"


def _check(kind: str, per_session: int, per_instance: int, message: str) -> None:
    window = current_app.config["SETTINGS"].limits.rate_window_seconds
    limits = limiter()
    if not limits.hit(f"{kind}:instance", per_instance, window):
        raise RateLimited(message)
    if not limits.hit(_session_key(kind), per_session, window):
        raise RateLimited(message)


def allow_submission() -> None:
    """Raise a 429 once this session or the whole service has sent too much this hour."""
    limits = current_app.config["SETTINGS"].limits
    _check(
        "submission",
        limits.submissions_per_session,
        limits.submissions_per_instance,
        _(
            "Too many reports or follow-ups have been sent in a short time. Nothing was "
            "stored. Please wait an hour and try again."
        ),
    )


def allow_codename_attempt() -> None:
    """Raise a 429 after too many codename attempts (each costs the server real work)."""
    _check(
        "codename",
        CODENAME_ATTEMPTS_PER_SESSION,
        CODENAME_ATTEMPTS_PER_INSTANCE,
        _("Too many codename attempts. Please wait an hour and try again."),
    )
