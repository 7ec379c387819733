"""A real SMTP server (aiosmtpd on 127.0.0.1) that records what it accepts, for the tests
that follow a delivery or a notice all the way to a mailbox."""

from __future__ import annotations

import contextlib
import dataclasses
import email
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from tests.support.processes import free_port

SENDER = "courier@service.example"


class Mailbox:
    """An aiosmtpd handler that records what it accepts; its RCPT reply can be changed."""

    def __init__(self) -> None:
        self.rcpt_reply = "250 OK"
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content, policy=policy.default)
            for e in self.envelopes
        ]


@dataclasses.dataclass
class Smtp:
    mailbox: Mailbox
    url: str


@contextlib.contextmanager
def running_smtp() -> Iterator[Smtp]:
    """An aiosmtpd server on a free loopback port, stopped on the way out."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(mailbox, f"smtp+insecure://127.0.0.1:{port}?sender={SENDER}&timeout=5")
    finally:
        controller.stop()
