"""The codename page may be shown again (in another language) only for the codename it showed.

A new report's codename is never stored on the server, so a language switch on its page
could lose it for good. The page's language buttons therefore send the codename back
(it is on the page already), and the session keeps only its HMAC, under a key derived
from the instance secret: the page is drawn again only when what comes back is the
codename this session was shown, and not after a short time or once the reporter has
gone on to another page. The session cookie is sealed, but even opened it would give
no codename, and a forged one gets nothing shown.
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


def forget() -> None:
    """The reporter left the codename page: it cannot be shown again."""
    if SESSION_KEY in session:
        del session[SESSION_KEY]
