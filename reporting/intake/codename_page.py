"""The codename page may be shown again (in another language) only for the codename it showed.

A new report's codename is never stored on the server, so a language switch on its page
could lose it for good. The page's language buttons therefore send the codename back
(it is on the page already), and the session keeps only its HMAC, under a key derived
from the instance secret: the page is drawn again only when what comes back is the
codename this session was shown, and not after a short time or once the reporter has
gone on to another page. The session cookie is sealed, but even opened it would give
no codename, and a forged one gets nothing shown.

An error page that shows a codename (something failed after the report was stored) cannot
count on the session: a failure late in the request skips saving it. Its language form
therefore carries its own MAC, under the same key, over the page's kind, its status code,
a time limit and the codename (`vouch`, `is_vouched`): the page is drawn again only with
what the server itself put on it, and only for a short time.
"""

from __future__ import annotations

import time

from flask import current_app, session

from crypto.instance_keys import CODENAME_PAGE, derive_instance_key
from crypto.primitives import hmac_sha256, hmac_sha256_verify

SESSION_KEY = "codename_mac"
# Long enough to copy a codename with care, short enough that a forgotten tab loses it.
SHOWN_FOR_SECONDS = 20 * 60


def _key() -> bytes:
    return derive_instance_key(current_app.config["SECRET_KEY"], CODENAME_PAGE)


def remember(codename: str, now: float | None = None) -> None:
    """Note (as a MAC only) the codename this session's page shows, until a short time."""
    until = int((time.time() if now is None else now) + SHOWN_FOR_SECONDS)
    session[SESSION_KEY] = {
        "mac": hmac_sha256(_key(), codename.encode("utf-8")).hex(),
        "until": until,
    }


def is_shown(codename: str, now: float | None = None) -> bool:
    """True when `codename` is the one this session was shown, and not too long ago."""
    noted = session.get(SESSION_KEY)
    if not isinstance(noted, dict):
        return False
    mac, until = noted.get("mac"), noted.get("until")
    if not isinstance(mac, str) or not isinstance(until, int) or isinstance(until, bool):
        return False
    if (time.time() if now is None else now) > until:
        forget()
        return False
    try:
        tag = bytes.fromhex(mac)
    except ValueError:
        return False
    return hmac_sha256_verify(_key(), codename.encode("utf-8"), tag)


def _error_page_message(kind: str, code: int, until: int, codename: str) -> bytes:
    # Never the bare codename the session's MAC covers: a form MAC opens no session check.
    return f"error-page\n{kind}\n{code}\n{until}\n{codename}".encode()


def vouch(kind: str, code: int, codename: str, now: float | None = None) -> dict[str, str]:
    """The hidden fields an error page's language form carries for its codename."""
    until = int((time.time() if now is None else now) + SHOWN_FOR_SECONDS)
    mac = hmac_sha256(_key(), _error_page_message(kind, code, until, codename))
    return {"kind": kind, "code": str(code), "until": str(until), "mac": mac.hex()}


def is_vouched(fields: dict[str, str], codename: str, now: float | None = None) -> bool:
    """True when `fields` (from `vouch`) were made for `codename`, and not too long ago."""
    kind, code, until, mac = (fields.get(k, "") for k in ("kind", "code", "until", "mac"))
    if not all(part.isascii() and part.isalnum() for part in (kind, code, until)):
        return False
    if not (code.isdigit() and until.isdigit()):
        return False
    if len(code) > 3 or len(until) > 12 or (time.time() if now is None else now) > int(until):
        return False
    try:
        tag = bytes.fromhex(mac)
    except ValueError:
        return False
    message = _error_page_message(kind, int(code), int(until), codename)
    return hmac_sha256_verify(_key(), message, tag)


def forget() -> None:
    """The reporter left the codename page: it cannot be shown again."""
    if SESSION_KEY in session:
        del session[SESSION_KEY]
