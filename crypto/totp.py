"""Time-based one-time passwords (RFC 6238) for the caseworkers' second factor.

`cryptography` computes the codes; this module adds what it leaves to callers:
a window of one step either side for clock drift, and the step a code matched,
so the caller can refuse the same code (or an older one) a second time.
"""

from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from .primitives import random_bytes

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation; authenticator apps expect SHA-1
DRIFT_STEPS = 1


def new_secret() -> bytes:
    """A fresh TOTP secret."""
    return random_bytes(SECRET_BYTES)


def secret_text(secret: bytes) -> str:
    """The secret as the base32 text authenticator apps accept when typed in."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def provisioning_uri(secret: bytes, account: str, issuer: str) -> str:
    """The otpauth:// URI that a QR code carries to an authenticator app."""
    return _totp(secret).get_provisioning_uri(account, issuer)


def matching_step(secret: bytes, code: str, now: float | None = None) -> int | None:
    """The time step whose code this is (within the drift window), or None.

    Callers keep the last accepted step and refuse a match at or before it, so a
    code is good once and an older code never comes back.
    """
    code = "".join(code.split())
    # isascii first: str.isdigit() also accepts other scripts' digits and superscripts,
    # which are no code and would not encode below.
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    now = time.time() if now is None else now
    step = int(now // STEP_SECONDS)
    totp = _totp(secret)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        try:
            totp.verify(code.encode("ascii"), candidate * STEP_SECONDS)
        except InvalidToken:
            continue
        return candidate
    return None


def code_at(secret: bytes, now: float) -> str:
    """The code for a moment: for tests and for showing enrolment works."""
    return _totp(secret).generate(int(now)).decode("ascii")


def _totp(secret: bytes) -> TOTP:
    # SHA-1 is what authenticator apps implement; HMAC-SHA-1 is not weakened by SHA-1 collisions.
    return TOTP(secret, DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=True)  # noqa: S303
