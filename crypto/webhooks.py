"""Standard Webhooks signatures (standardwebhooks.com), for delivering ciphertext to NGOs.

A delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature`
headers. The signature is HMAC-SHA256 over "id.timestamp.body" with the
shared secret, written `v1,<base64>`; a secret is written `whsec_<base64>`.
The receiver checks it in constant time and refuses stale timestamps, so a
captured request cannot be replayed later; the id lets it refuse a replay now.
"""

from __future__ import annotations

import base64
import binascii

from .errors import CryptoError
from .primitives import constant_time_equal, hmac_sha256, random_bytes

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SIGNATURE_VERSION = "v1"
SECRET_BYTES = 32
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class WebhookSignatureError(CryptoError, ValueError):
    """A delivery whose signature, timestamp or headers do not check out."""


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks text form."""
    return SECRET_PREFIX + base64.b64encode(random_bytes(SECRET_BYTES)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_…` secret."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSignatureError("the webhook secret is not valid base64") from None
    if len(key) < 16:
        raise WebhookSignatureError("the webhook secret is too short")
    return key


def check_secret(text: str) -> str:
    """A secret given to us from elsewhere, as `new_secret` makes them, or refused.

    Whoever makes a webhook's secret (the NGO's receiver) hands it to the service, so it
    must be at least as strong as ours: the `whsec_` prefix, standard base64 and at least
    SECRET_BYTES random bytes. A key with few distinct byte values was typed, not drawn:
    32 random bytes have about 30 (fewer than 16 has a chance below 1e-20).
    """
    secret = text.strip()
    if not secret.startswith(SECRET_PREFIX):
        raise WebhookSignatureError(f"the secret must start with {SECRET_PREFIX}")
    key = decode_secret(secret)
    if len(key) < SECRET_BYTES:
        raise WebhookSignatureError(
            f"the secret is too short ({len(key)} bytes; at least {SECRET_BYTES} are needed)"
        )
    if len(set(key)) < SECRET_BYTES // 2:
        raise WebhookSignatureError("the secret is not random")
    return secret


def _signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for this delivery."""
    mac = hmac_sha256(decode_secret(secret), _signed_content(message_id, timestamp, body))
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac).decode('ascii')}"


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for a delivery."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: str,
    message_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise WebhookSignatureError unless one `v1` signature matches and the time is close."""
    if not message_id or len(message_id) > 256:
        raise WebhookSignatureError("missing or overlong webhook-id")
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        raise WebhookSignatureError("webhook-timestamp is not a whole number") from None
    if abs(now - sent_at) > tolerance:
        raise WebhookSignatureError("webhook-timestamp is too far from the current time")
    expected = hmac_sha256(decode_secret(secret), _signed_content(message_id, sent_at, body))
    for candidate in signature_header.split():
        version, _, encoded = candidate.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if constant_time_equal(given, expected):
            return
    raise WebhookSignatureError("no valid signature")
