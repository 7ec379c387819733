"""The caseworker client's own exceptions: one root, so the command line turns every one
into a one-line message the caseworker can act on (and a bug still shows its traceback)."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error the client raises on purpose, its message meant for the
    caseworker at the keyboard."""
