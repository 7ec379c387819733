"""E-mail addresses and webhook URLs the service will send to: plain ones only.

Checked when an operator configures an address, and again by the e-mail channel,
so a bad address is refused at the command line instead of failing every delivery.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_FORBIDDEN = set(' <>()[]\\,;:"')


def check_email_address(address: str, what: str = "the address") -> None:
    """Accept a plain ASCII addr-spec only: no display names, lists or header tricks."""
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain and address.isascii() and address.isprintable()):
        raise ValueError(f"{what} must be a plain address like name@example.org")
    if _FORBIDDEN & set(address):
        raise ValueError(f"{what} must be a bare address, without spaces, names or brackets")


def check_webhook_url(url: str) -> None:
    """Accept an http(s) URL with a host (http:// is for onion services, over Tor)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("the URL must start with https:// (or http:// over Tor)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or not parts.hostname or not (url.isascii() and url.isprintable()):
        raise ValueError("the URL must be a plain web address like https://receiver.example.org/")
    if " " in url:
        raise ValueError("the URL must not contain spaces")
