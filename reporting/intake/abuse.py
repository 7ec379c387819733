"""Limits on submissions and codename attempts, without knowing who anyone is.

Nothing identifies a reporter, so limits are counted per session: a random id kept in the
encrypted session cookie. They stop an honest double-send and casual scripts, and recover
within a minute. There is deliberately no instance-wide budget: one client could spend it
and lock every other reporter out. What a flood can cost the machine (each codename check
is 64 MiB of Argon2id) is bounded by the derivation pool instead (reporting/intake/derivations.py),
and malformed attempts are refused by the forms before they reach either.
"""

from __future__ import annotations

from flask import current_app, session
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from crypto.tokens import new_secret_hex
from reporting.web.ratelimit import limiter

# Survives session renewals, so renewing a session does not reset its counters.
ABUSE_ID = "abuse_id"


class RateLimited(TooManyRequests):
    """A 429 that says what to do, and when (Retry-After)."""


def _session_key(kind: str) -> str:
    if not isinstance(session.get(ABUSE_ID), str):
        session[ABUSE_ID] = new_secret_hex(16)
    return f"{kind}:session:{session[ABUSE_ID]}"


def _check(kind: str, per_session: int, message: str) -> None:
    window = current_app.config["SETTINGS"].limits.rate_window_seconds
    if not limiter().hit(_session_key(kind), per_session, window):
        raise RateLimited(message, retry_after=window)


def allow_submission() -> None:
    """Raise a 429 once this session has sent too much in the last minute."""
    _check(
        "submission",
        current_app.config["SETTINGS"].limits.submissions_per_session,
        _(
            "Too many reports or follow-ups have been sent in a short time. Nothing was "
            "stored. Please wait a minute and try again."
        ),
    )


def allow_codename_attempt() -> None:
    """Raise a 429 after too many codename attempts from this session (each costs real work)."""
    _check(
        "codename",
        current_app.config["SETTINGS"].limits.codename_attempts_per_session,
        _("Too many codename attempts. Please wait a minute and try again."),
    )
