"""E-mail addresses the service will send to: plain ones only.

Checked when an operator configures an address, and again by the e-mail channel,
so a bad address is refused at the command line instead of failing every delivery.
"""

from __future__ import annotations

_FORBIDDEN = set(' <>()[]\\,;:"')


def check_email_address(address: str, what: str = "the address") -> None:
    """Accept a plain ASCII addr-spec only: no display names, lists or header tricks."""
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain and address.isascii() and address.isprintable()):
        raise ValueError(f"{what} must be a plain address like name@example.org")
    if _FORBIDDEN & set(address):
        raise ValueError(f"{what} must be a bare address, without spaces, names or brackets")
