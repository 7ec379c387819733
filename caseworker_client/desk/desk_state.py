"""What the desk's views share for one run: the client's Context and the decrypted reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from caseworker_client.context import Context
from caseworker_client.desk.reading import Library


@dataclass
class Desk:
    ctx: Context
    library: Library = field(default_factory=Library)
    refresh_seconds: int = 120  # the inbox reloads itself (a meta refresh: no script)


def desk() -> Desk:
    found: Desk = current_app.extensions["desk"]
    return found
