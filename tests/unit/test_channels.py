"""worker/channels/: every kind of delivery channel is one module with `deliver`.

What matters: each `ChannelKind` an admin can choose has its module (so a new kind cannot
be added without the code that delivers it), and the email channel without an SMTP server
refuses for good (an operator must act) instead of raising.
"""

from __future__ import annotations

import inspect

import pytest

from reporting.infra.config import DeliverySettings
from reporting.models import ChannelKind
from worker import channels
from worker.delivery import Claimed


@pytest.mark.parametrize("kind", list(ChannelKind), ids=str)
def test_every_kind_has_a_module_that_delivers(kind: ChannelKind) -> None:
    module = channels.channel(kind)
    assert module.__name__ == f"worker.channels.{kind.value}"  # type: ignore[attr-defined]
    parameters = list(inspect.signature(module.deliver).parameters)
    assert parameters == ["item", "settings", "ciphertext"]


def test_email_without_an_smtp_server_is_refused_for_good() -> None:
    item = Claimed(
        delivery_id="d",
        lease_token="l",
        idempotency_id="msg_1",
        kind=ChannelKind.EMAIL,
        target="triage@ngo.example",
        secret="",
        blob_id="b",
        report_id="r",
        message_id="m",
        message_kind="report",
        part=0,
        organisation="Test organisation",
    )
    outcome = channels.deliver(item, DeliverySettings(smtp_url=""), b"age ciphertext")
    assert outcome == channels.Outcome(
        False, False, "no SMTP server configured (REPORTING_SMTP_URL)"
    )
