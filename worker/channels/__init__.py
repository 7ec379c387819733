"""Delivery channels: the ways the worker hands ciphertext to an organisation.

A channel is one module here named after its `ChannelKind` value (`webhook.py` for
"webhook") with one function, `deliver(item, settings, ciphertext) -> Outcome`, that makes
one attempt and never raises for the far side's trouble. So a new channel is that module,
its kind in reporting/models/delivery.py, and its form (reporting/organisations/partners.py
checks what the admin enters, reporting/organisations/pages/ shows it). `deliver` below picks
the module; modules load on first use, so a worker that only posts webhooks never imports
smtplib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from reporting.infra.config import DeliverySettings
    from reporting.models import ChannelKind
    from worker.delivery import Claimed


class Outcome(NamedTuple):
    """What the worker needs: done, try again later, or stop and tell an operator. `error` is
    a short fixed phrase: no content, address, URL path or credential."""

    delivered: bool
    retryable: bool
    error: str


class ChannelRefused(Exception):
    """A delivery a channel will not attempt (a bad URL, no TLS for a password): retrying
    cannot help, an operator must."""


class Channel(Protocol):
    """What a channel module offers."""

    def deliver(self, item: Claimed, settings: DeliverySettings, ciphertext: bytes) -> Outcome: ...


def channel(kind: ChannelKind) -> Channel:
    """The module that delivers to channels of this kind."""
    module: Channel = importlib.import_module(f"{__name__}.{kind.value}")
    return module


def deliver(item: Claimed, settings: DeliverySettings, ciphertext: bytes) -> Outcome:
    """One attempt through the item's channel."""
    return channel(item.kind).deliver(item, settings, ciphertext)
