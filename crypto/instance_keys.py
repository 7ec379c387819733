"""Every key the service derives from its instance secret, each named with its label.

The instance secret (`REPORTING_SECRET_KEY`, or the generated `instance/secret_key`) is
never used as a key itself: each use gets its own key, HKDF-SHA-256 of the secret under a
label of its own, so a key that leaks or is misused for one purpose says nothing about the
others. Listing them here, and nowhere else, keeps the labels distinct and in one place to
review. A label never changes once a key is in use: sealed TOTP secrets, throttle rows and
the audit chain were made under these, and a changed label would orphan them.

(Flask-WTF's CSRF tokens sign with the secret through itsdangerous, with its own salt;
they carry nothing secret and are not ours to derive.)
"""

from __future__ import annotations

from .primitives import hkdf_sha256

# The reporter's session cookie, sealed with SecretBox (the label predates this module).
SESSION_COOKIE = b"reporting/secretbox/v1 key session"
# Caseworkers' TOTP secrets, sealed with SecretBox before they are stored.
TOTP_SECRETS = b"reporting/secretbox/v1 key caseworker-totp"
# The HMAC that names login-throttle rows, so the table lists no usernames.
LOGIN_THROTTLE = b"reporting/login-throttle/v1"
# The HMAC key of the audit log's hash chain.
AUDIT_CHAIN = b"reporting/audit-chain/v1"
# The HMAC of a new report's codename, kept in the session (never the codename itself) so
# that the codename page can be shown again, in another language, only for the codename
# it showed; and the HMAC an error page that shows a codename puts in its own language form
# (over the page's kind, status and time limit too: never the bare codename).
CODENAME_PAGE = b"reporting/codename-page/v1"

LABELS = frozenset({SESSION_COOKIE, TOTP_SECRETS, LOGIN_THROTTLE, AUDIT_CHAIN, CODENAME_PAGE})
MIN_SECRET_BYTES = 16


def derive_instance_key(secret: str | bytes, label: bytes) -> bytes:
    """The 32-byte key for `label` (one of this module's constants) from the instance secret."""
    if label not in LABELS:
        raise ValueError("name every key derived from the instance secret in this module")
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"the instance secret must be at least {MIN_SECRET_BYTES} bytes")
    return hkdf_sha256(raw, b"", label)
