"""The e-mail delivery channel: age ciphertext, armored, as an attachment over SMTP.

The server is a blind courier: it mails only ciphertext, and the subject and body
are the caller's fixed wording. TLS is always verified against the system's CAs,
and a password never crosses an unencrypted connection. Failures come back as an
`Outcome` (never an exception) so the Celery task can decide whether to retry;
its `error` is a short fixed phrase without addresses, content or credentials.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from crypto.armor_existing import armor
from reporting.delivery.addresses import check_email_address
from worker.channels import ChannelRefused, Outcome

if TYPE_CHECKING:
    from reporting.infra.config import DeliverySettings
    from worker.delivery import Claimed

SECURITY_MODES = ("starttls", "ssl", "none")
_SCHEMES = {"smtp": ("starttls", 587), "smtps": ("ssl", 465), "smtp+insecure": ("none", 25)}
_FILENAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name could resolve anywhere; only a loopback literal is trusted


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail; checked on construction, so a bad config fails early."""

    host: str
    port: int
    security: str  # "starttls", "ssl" (SMTPS) or "none" (loopback test servers only)
    username: str | None
    password: str | None = field(repr=False)  # never in a repr, a log line or an outcome
    sender: str
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY_MODES)}")
        if not self.host:
            raise ValueError("SMTP host is missing")
        if not 0 < self.port < 65536:
            raise ValueError("SMTP port must be between 1 and 65535")
        if not self.timeout > 0:
            raise ValueError("SMTP timeout must be positive")
        if (self.username is None) != (self.password is None) or self.username == "":
            raise ValueError("give both an SMTP username and a password, or neither")
        if self.security == "none":
            if not _is_loopback(self.host):
                raise ValueError("unencrypted SMTP is allowed only to 127.0.0.1 or ::1")
            if self.username is not None:
                raise ValueError("refusing to send SMTP credentials without TLS")
        for secret in (self.username, self.password):
            # smtplib encodes credentials as ASCII; a UnicodeEncodeError would carry them.
            if secret is not None and not (secret.isascii() and secret.isprintable()):
                raise ValueError("SMTP username and password must be printable ASCII")
        check_email_address(self.sender, "the sender")


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read `smtp://user:pass@host:587?sender=a@b` (STARTTLS), `smtps://…:465` (implicit TLS)
    or `smtp+insecure://127.0.0.1:1025?sender=…` (no TLS, loopback only).

    User and password are percent-decoded. Errors never quote the URL: it holds a password.
    """
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError("SMTP URL must start with smtp://, smtps:// or smtp+insecure://")
    security, default_port = _SCHEMES[parts.scheme]
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP URL must not have a path or a fragment")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("SMTP URL has an invalid port") from None
    options: dict[str, str] = {}
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        if key not in ("sender", "timeout") or key in options:
            raise ValueError("SMTP URL options are sender= (required) and timeout=, once each")
        options[key] = unquote(value)  # not unquote_plus: "+" is common in addresses
    if "sender" not in options:
        raise ValueError("SMTP URL needs ?sender=address (the From address)")
    try:
        timeout = float(options.get("timeout", "30"))
    except ValueError:
        raise ValueError("SMTP URL timeout must be a number of seconds") from None
    username, password = parts.username, parts.password
    return SmtpSettings(
        host=parts.hostname or "",
        port=port,
        security=security,
        username=None if username is None else unquote(username),
        password=None if password is None else unquote(password),
        sender=options["sender"],
        timeout=timeout,
    )


def _tls_context() -> ssl.SSLContext:
    """Certificates and host names are always verified (tests replace this to trust their CA)."""
    return ssl.create_default_context()


def send_notification(settings: SmtpSettings, to: str, subject: str, body_text: str) -> Outcome:
    """Mail a plain-text notice. The caller writes `subject` and `body_text` from fixed
    wording: they must hold nothing from a report, since they travel and rest in clear.
    """
    return _send(settings, _message(settings, to, subject, body_text), to)


def send_ciphertext(
    settings: SmtpSettings,
    to: str,
    subject: str,
    body_text: str,
    attachment_name: str,
    ciphertext: bytes,
) -> Outcome:
    """Mail a binary age file, armored, as the attachment `attachment_name` (e.g. "<id>.age").

    The caller writes `subject` and `body_text` from fixed wording: they must hold
    nothing from a report (they travel and rest in clear). The attachment is
    application/octet-stream in base64, so mail gateways cannot rewrap lines or
    line endings, and clients save it as a file for `age -d` rather than showing
    it; it is armored anyway, so it can also be pasted as text. Raises ValueError
    for a bad address or file name, or for bytes that are not a binary age file.
    """
    if not attachment_name or len(attachment_name) > 100 or set(attachment_name) - _FILENAME_CHARS:
        raise ValueError("attachment name must be a short name of letters, digits, '.', '_', '-'")
    message = _message(settings, to, subject, body_text)
    message.add_attachment(
        armor(ciphertext), "application", "octet-stream", filename=attachment_name
    )
    return _send(settings, message, to)


def _message(settings: SmtpSettings, to: str, subject: str, body_text: str) -> EmailMessage:
    check_email_address(to, "the recipient")
    domain = settings.sender.rpartition("@")[2]
    message = EmailMessage()  # default policy: a CR or LF in a header raises ValueError
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=domain)  # our host name is nobody's business
    message.set_content(body_text)
    return message


def _send(settings: SmtpSettings, message: EmailMessage, to: str) -> Outcome:
    try:
        _submit(settings, message, to)
    except Exception as exc:
        outcome = _failure(exc)
        if outcome is None:
            raise
        return outcome
    return Outcome(delivered=True, retryable=False, error="")


def _submit(settings: SmtpSettings, message: EmailMessage, to: str) -> None:
    helo = settings.sender.rpartition("@")[2]  # not socket.getfqdn(): don't name our host
    context = _tls_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, helo, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, helo, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):  # never fall back to clear text
                raise ChannelRefused("SMTP server offers no STARTTLS")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username is not None and settings.password is not None:
            if not isinstance(smtp.sock, ssl.SSLSocket):  # belt and braces to __post_init__
                raise ChannelRefused("SMTP refused to send credentials without TLS")
            smtp.login(settings.username, settings.password)
        smtp.send_message(message, from_addr=settings.sender, to_addrs=[to])
    except BaseException:
        smtp.close()  # no QUIT: after a timeout it could hang for another `timeout`
        raise
    # Not `with smtp`: a failed QUIT after the message was accepted must not
    # turn a delivery into an error (and a retry into a duplicate).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reply(code: int, what: str) -> Outcome:
    """4xx replies are temporary by definition (RFC 5321); everything else is not."""
    return Outcome(False, 400 <= code < 500, f"SMTP {code} {what}")


def _failure(exc: BaseException) -> Outcome | None:
    """Map an exception to an outcome; None for a programming error, which should raise."""
    if isinstance(exc, ChannelRefused):
        return Outcome(False, False, str(exc))
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min(code for code, _ in exc.recipients.values())
        return _reply(code, "recipient refused")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        temporary = 400 <= exc.smtp_code < 500  # 454: temporary authentication failure
        return Outcome(False, temporary, "SMTP auth failed")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _reply(exc.smtp_code, "sender refused")
    if isinstance(exc, smtplib.SMTPDataError):
        return _reply(exc.smtp_code, "message refused")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, "error")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Outcome(False, False, "SMTP server lacks a needed extension (AUTH?)")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a read timeout as a disconnection; the timeout is its context.
        timeout = isinstance(exc.__context__, TimeoutError)
        return Outcome(False, True, "SMTP timeout" if timeout else "SMTP server disconnected")
    if isinstance(exc, smtplib.SMTPException):
        return Outcome(False, False, "SMTP error")  # e.g. no usable AUTH mechanism
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Outcome(False, False, "SMTP TLS certificate verification failed")
    if isinstance(exc, ssl.SSLError):
        return Outcome(False, True, "SMTP TLS error")
    if isinstance(exc, TimeoutError):
        return Outcome(False, True, "SMTP timeout")
    if isinstance(exc, ConnectionRefusedError):
        return Outcome(False, True, "SMTP connection refused")
    if isinstance(exc, OSError):
        return Outcome(False, True, "SMTP connection failed")
    return None


def deliver(item: Claimed, settings: DeliverySettings, ciphertext: bytes) -> Outcome:
    """The channel interface (worker/channels/__init__.py): mail the armored ciphertext to
    the channel's address, with fixed wording that names the item and nothing of its content.
    """
    if not settings.smtp_url:
        return Outcome(False, False, "no SMTP server configured (REPORTING_SMTP_URL)")
    what = "document" if item.part == 0 else f"attachment {item.part}"
    return send_ciphertext(
        parse_smtp_url(settings.smtp_url),
        item.target,
        f"[{item.organisation}] new encrypted {item.message_kind} {what}",
        (
            "An encrypted item arrived through the reporting service.\n\n"
            f"Report reference: {item.report_id}\nItem: {item.idempotency_id}\n\n"
            "The attachment is an age file; decrypt it on a caseworker's own computer, "
            "for example: age -d -i key.txt file.age\n"
        ),
        f"{item.idempotency_id}.age",
        ciphertext,
    )
