"""The e-mail channel against a real SMTP server (aiosmtpd on 127.0.0.1), and armoring.

What matters: the NGO gets an armored age file that decrypts, with only the caller's
fixed subject and body beside it; TLS is verified and never skipped; a password never
crosses an unencrypted connection; and each failure is classed as retryable or not.
"""

from __future__ import annotations

import email
import io
import ipaddress
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import crypto
from crypto.armor_existing import armor
from crypto.armor_stream import ArmorReader
from tests.support.processes import free_port
from tests.support.tools import require_tool
from worker.channels import email as channel
from worker.channels.email import SmtpSettings, parse_smtp_url, send_ciphertext, send_notification

SENDER = "alerts@ngo.example"
TO = "triage@partner.example"
SUBJECT = "New report waiting"
BODY = "A new report is waiting. Decrypt the attachment with age -d.\n"
PASSWORD = "s3cret-pa55"


class Recorder:
    """Records delivered envelopes and logins; MAIL/RCPT/DATA/QUIT replies can be scripted."""

    def __init__(self, mail="250 OK", rcpt="250 OK", data="250 OK", quit="221 Bye") -> None:
        self.mail_reply, self.rcpt_reply, self.data_reply, self.quit_reply = mail, rcpt, data, quit
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        envelope.mail_from = address
        return self.mail_reply

    async def handle_QUIT(self, server, session, envelope) -> str:
        return self.quit_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.data_reply

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    def message(self) -> EmailMessage:
        [envelope] = self.envelopes
        return email.message_from_bytes(envelope.original_content, policy=policy.default)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Recorder, int]]]:
    """Start aiosmtpd servers on free loopback ports; stop them all after the test."""
    controllers: list[Controller] = []

    def start(recorder: Recorder | None = None, **kwargs: Any) -> tuple[Recorder, int]:
        recorder = recorder or Recorder()
        port = free_port()
        controller = Controller(
            recorder,
            hostname="127.0.0.1",
            port=port,
            server_hostname="localhost",
            authenticator=recorder.authenticate,
            **kwargs,
        )
        controller.start()
        controllers.append(controller)
        return recorder, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, which no system trust store knows."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test smtp")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]) -> None:
    """Make the client trust the test certificate (still verifying it and the host name)."""
    cafile = str(certificate[0])
    monkeypatch.setattr(channel, "_tls_context", lambda: ssl.create_default_context(cafile=cafile))


def plain(port: int, **kwargs: Any) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", port, "none", None, None, SENDER, **kwargs)


def with_login(port: int, security: str, password: str = PASSWORD) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", port, security, "alerts", password, SENDER, timeout=5)


def ciphertext(identity: crypto.Identity) -> bytes:
    return crypto.encrypt(b"what the reporter wrote", [identity.recipient])


# Armoring


def test_armor_is_what_age_dash_a_writes() -> None:
    identity = crypto.generate_identity()
    for size in (0, 47, 48, 49, 100_000):
        armored_by_age = crypto.encrypt(b"x" * size, [identity.recipient], armor=True)
        binary = ArmorReader(io.BytesIO(armored_by_age)).read()
        assert armor(binary) == armored_by_age
        assert crypto.decrypt(armor(binary), [identity]) == b"x" * size
    lines = armor(binary).split(b"\n")
    assert lines[0] == b"-----BEGIN AGE ENCRYPTED FILE-----"
    assert lines[-2:] == [b"-----END AGE ENCRYPTED FILE-----", b""]
    assert all(len(line) == 64 for line in lines[1:-3]) and 0 < len(lines[-3]) <= 64


@pytest.mark.needs_age
def test_stock_age_decrypts_armor(tmp_path: Path) -> None:
    age = require_tool("age")
    identity = crypto.generate_identity(post_quantum=False)
    (tmp_path / "key.txt").write_text(crypto.identity_file_text(identity))
    armored = armor(ciphertext(identity))
    result = subprocess.run(
        [age, "-d", "-i", str(tmp_path / "key.txt")], input=armored, capture_output=True, check=True
    )
    assert result.stdout == b"what the reporter wrote"


@pytest.mark.parametrize("data", [b"", b"what the reporter wrote", b"\n-----BEGIN AGE"])
def test_armor_refuses_anything_but_a_binary_age_file(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"age file|already armored"):
        armor(data)
    identity = crypto.generate_identity()
    with pytest.raises(ValueError, match="already armored"):
        armor(armor(ciphertext(identity)))


# Delivery


def test_ciphertext_mail_arrives_and_decrypts(smtp_server) -> None:
    recorder, port = smtp_server()
    identity = crypto.generate_identity()
    outcome = send_ciphertext(plain(port), TO, SUBJECT, BODY, "r-1234.age", ciphertext(identity))
    assert outcome == (True, False, "")
    [envelope] = recorder.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [TO])
    message = recorder.message()
    assert (message["From"], message["To"], message["Subject"]) == (SENDER, TO, SUBJECT)
    assert message["Message-ID"].endswith("@ngo.example>")
    sent = parsedate_to_datetime(message["Date"])
    assert sent.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - sent) < timedelta(minutes=1)
    assert "X-Mailer" not in message
    body, attachment = message.iter_parts()
    assert body.get_content().replace("\r\n", "\n") == BODY  # CRLF on the wire
    assert attachment.get_content_type() == "application/octet-stream"
    assert attachment.get_filename() == "r-1234.age"
    assert attachment.get_content_disposition() == "attachment"
    armored = attachment.get_content()
    assert armored.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert crypto.decrypt(armored, [identity]) == b"what the reporter wrote"
    assert b"what the reporter wrote" not in envelope.original_content


def test_notification_is_plain_text(smtp_server) -> None:
    recorder, port = smtp_server()
    assert send_notification(plain(port), TO, SUBJECT, "新报告\n").delivered
    message = recorder.message()
    assert not message.is_multipart()
    assert message.get_content().replace("\r\n", "\n") == "新报告\n"


@pytest.mark.parametrize(
    ("recorder", "retryable", "error"),
    [
        (Recorder(mail="550 5.7.1 not you"), False, "SMTP 550 sender refused"),
        (Recorder(mail="452 4.3.1 full"), True, "SMTP 452 sender refused"),
        (Recorder(rcpt="550 5.1.1 no such user"), False, "SMTP 550 recipient refused"),
        (Recorder(rcpt="451 4.3.0 try later"), True, "SMTP 451 recipient refused"),
        (Recorder(data="554 5.6.0 rejected"), False, "SMTP 554 message refused"),
        (Recorder(data="451 4.3.0 try later"), True, "SMTP 451 message refused"),
    ],
    ids=["mail-550", "mail-452", "rcpt-550", "rcpt-451", "data-554", "data-451"],
)
def test_server_replies_decide_retry(smtp_server, recorder, retryable, error) -> None:
    _, port = smtp_server(recorder)
    outcome = send_notification(plain(port), TO, SUBJECT, BODY)
    assert outcome == (False, retryable, error)
    assert recorder.envelopes == []


def test_a_bad_quit_after_delivery_is_still_a_delivery(smtp_server) -> None:
    recorder, port = smtp_server(Recorder(quit="421 4.3.2 shutting down"))
    assert send_notification(plain(port), TO, SUBJECT, BODY) == (True, False, "")
    assert len(recorder.envelopes) == 1


def test_hang_up_is_retryable() -> None:
    with socket.socket() as rude:
        rude.bind(("127.0.0.1", 0))
        rude.listen(1)
        port = rude.getsockname()[1]
        hang_up = threading.Thread(target=lambda: rude.accept()[0].close())
        hang_up.start()
        outcome = send_notification(plain(port), TO, SUBJECT, BODY)
        hang_up.join()
    assert outcome == (False, True, "SMTP server disconnected")


def test_closed_port_is_retryable() -> None:
    with socket.socket() as bound_not_listening:
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        outcome = send_notification(plain(port), TO, SUBJECT, BODY)
    assert outcome == (False, True, "SMTP connection refused")


@pytest.mark.slow
def test_silent_server_times_out_retryably() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        outcome = send_notification(plain(port, timeout=0.3), TO, SUBJECT, BODY)
    assert outcome == (False, True, "SMTP timeout")


# TLS and credentials


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_is_refused(smtp_server, server_tls, security) -> None:
    tls = {"tls_context": server_tls} if security == "starttls" else {"ssl_context": server_tls}
    recorder, port = smtp_server(**tls)
    outcome = send_notification(with_login(port, security), TO, SUBJECT, BODY)
    assert outcome == (False, False, "SMTP TLS certificate verification failed")
    assert recorder.logins == [] and recorder.envelopes == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.usefixtures("trust_test_ca")
def test_login_over_verified_tls(smtp_server, server_tls, security) -> None:
    # aiosmtpd only counts STARTTLS as TLS for AUTH, not SMTPS.
    tls = {"tls_context": server_tls} if security == "starttls" else {"ssl_context": server_tls}
    recorder, port = smtp_server(**tls, auth_require_tls=security == "starttls")
    assert send_notification(with_login(port, security), TO, SUBJECT, BODY).delivered
    assert recorder.logins == [(b"alerts", PASSWORD.encode())]
    outcome = send_notification(with_login(port, security, "wrong"), TO, SUBJECT, BODY)
    assert outcome == (False, False, "SMTP auth failed")
    assert len(recorder.envelopes) == 1


def test_starttls_is_required_even_without_credentials(smtp_server) -> None:
    recorder, port = smtp_server(auth_require_tls=False)  # offers AUTH, but no STARTTLS
    no_login = SmtpSettings("127.0.0.1", port, "starttls", None, None, SENDER)
    for settings in (with_login(port, "starttls"), no_login):
        outcome = send_notification(settings, TO, SUBJECT, BODY)
        assert outcome == (False, False, "SMTP server offers no STARTTLS")
    assert recorder.logins == [] and recorder.envelopes == []


def test_no_password_without_tls_even_past_validation(smtp_server) -> None:
    recorder, port = smtp_server(auth_require_tls=False)
    with pytest.raises(ValueError, match="credentials without TLS"):
        SmtpSettings("127.0.0.1", port, "none", "alerts", PASSWORD, SENDER)
    settings = with_login(port, "starttls")
    object.__setattr__(settings, "security", "none")  # as if validation had a bug
    outcome = send_notification(settings, TO, SUBJECT, BODY)
    assert outcome == (False, False, "SMTP refused to send credentials without TLS")
    assert recorder.logins == []


def test_password_stays_out_of_repr_and_errors() -> None:
    settings = parse_smtp_url(f"smtps://alerts:{PASSWORD}@127.0.0.1:1?sender={SENDER}")
    assert PASSWORD not in repr(settings) and "alerts" in repr(settings)
    outcome = send_notification(settings, TO, SUBJECT, BODY)
    assert outcome.retryable and PASSWORD not in outcome.error


# Configuration


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://us%40er:p%3Ass%2Fw%25rd@mail.example.org?sender=alerts%2Bngo@ngo.example",
            ("mail.example.org", 587, "starttls", "us@er", "p:ss/w%rd", "alerts+ngo@ngo.example"),
        ),
        (
            "smtps://u:p@mail.example.org:2465/?sender=a@ngo.example&timeout=5",
            ("mail.example.org", 2465, "ssl", "u", "p", "a@ngo.example"),
        ),
        (
            "smtp+insecure://127.0.0.1:1025?sender=a@ngo.example",
            ("127.0.0.1", 1025, "none", None, None, "a@ngo.example"),
        ),
        ("smtp+insecure://[::1]?sender=a@ngo.example", ("::1", 25, "none", None, None, None)),
    ],
)
def test_parse_smtp_url(url: str, expected: tuple[Any, ...]) -> None:
    settings = parse_smtp_url(url)
    got = (settings.host, settings.port, settings.security, settings.username, settings.password)
    assert got == expected[:5]
    assert expected[5] is None or settings.sender == expected[5]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.org?sender=a@ngo.example", "must start with"),
        ("smtp://mail.example.org", "needs \\?sender="),
        ("smtp://mail.example.org?sender=a@ngo.example&verify=no", "options are"),
        ("smtp://mail.example.org?sender=a@ngo.example&sender=b@ngo.example", "once each"),
        ("smtp://mail.example.org:99999?sender=a@ngo.example", "invalid port"),
        ("smtp://mail.example.org/path?sender=a@ngo.example", "path"),
        ("smtp://user@mail.example.org?sender=a@ngo.example", "both"),
        ("smtp://u:p@?sender=a@ngo.example", "host is missing"),
        ("smtp://mail.example.org?sender=Alerts <a@ngo.example>", "bare address"),
        ("smtp://mail.example.org?sender=nobody", "plain address"),
        ("smtp://mail.example.org?sender=a@ngo.example&timeout=soon", "timeout"),
        ("smtp+insecure://mail.example.org?sender=a@ngo.example", "only to 127.0.0.1"),
        ("smtp+insecure://u:p@127.0.0.1?sender=a@ngo.example", "credentials without TLS"),
        ("smtp://u:p%C3%A9@mail.example.org?sender=a@ngo.example", "printable ASCII"),
    ],
)
def test_parse_smtp_url_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        parse_smtp_url(url)
    assert "p%C3" not in str(raised.value) and "pé" not in str(raised.value)


def test_bad_recipient_or_attachment_name_raises(smtp_server) -> None:
    _, port = smtp_server()
    with pytest.raises(ValueError, match="recipient"):
        send_notification(plain(port), "a@b.example\r\nBcc: x@evil.example", SUBJECT, BODY)
    with pytest.raises(ValueError, match="attachment name"):
        send_ciphertext(plain(port), TO, SUBJECT, BODY, "../x.age", b"age-encryption.org/v1\n")
    with pytest.raises(ValueError, match="not a binary age file"):
        send_ciphertext(plain(port), TO, SUBJECT, BODY, "x.age", b"the report in clear")
