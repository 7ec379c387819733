"""Partner organisations and delivery channels on the admin pages.

What matters: a partner's keys are public age keys only (a private key is refused and
never shown back), of one kind, at least one; a webhook takes the signing secret its
receiver made (a whsec_ secret of 32 random bytes, nothing weaker), stores it for the
worker and never shows it back; a webhook the worker would refuse (a private or loopback
address, a name that does not resolve) is refused when it is added, naming
REPORTING_WEBHOOK_ALLOWED_NETWORKS; channels are switched on and off; a partner that
escalations went to is kept (its channels disabled) rather than deleted; reports never
go to a partner's channels. Bad input is a 400 that changes nothing.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from crypto.webhooks import new_secret
from reporting.infra import db
from reporting.infra.config import DeliverySettings
from reporting.models import (
    Blob,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    Message,
    MessageKind,
    Partner,
    Report,
)
from tests.support.admin import (
    People,
    admin_app,
    audit_count,
    audit_details,
    errors_shown,
    make_people,
    post,
    signed_in,
)

# Literal public addresses: the check resolves host names, and tests have no DNS.
PUBLIC = "https://9.9.9.9"


# The same app and accounts as the other admin pages' tests.
@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return admin_app(tmp_path, database_url)


@pytest.fixture
def people(app: Flask) -> People:
    return make_people(app)


@pytest.fixture
def admin_client(app: Flask, people: People) -> FlaskClient:
    return signed_in(app, people.admin)


def _keys(count: int = 2, post_quantum: bool = True) -> list[str]:
    return [str(crypto.generate_identity(post_quantum).recipient) for _ in range(count)]


def _partners(app: Flask) -> list[Partner]:
    with app.app_context():
        return list(db.session().scalars(select(Partner).order_by(Partner.id)))


def _channels(app: Flask) -> list[DeliveryChannel]:
    with app.app_context():
        return list(db.session().scalars(select(DeliveryChannel).order_by(DeliveryChannel.id)))


def _add_partner(
    client: FlaskClient, name: str = "Legal aid", keys: list[str] | None = None
) -> int:
    response = post(
        client, "/admin/partners/new", {"name": name, "recipients": "\n".join(keys or _keys())}
    )
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


# Partners


def test_a_partner_is_added_with_its_keys(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    keys = _keys()
    text = f"# their office\n  {keys[0]}  \n\n{keys[1]}\n{keys[0]}\n"
    response = post(
        admin_client, "/admin/partners/new", {"name": " Legal  aid ", "recipients": text}
    )
    assert response.status_code == 302
    (partner,) = _partners(app)
    assert (partner.name, partner.recipient_list) == ("Legal aid", keys)
    assert partner.organisation_id == people.admin.organisation_id
    listing = admin_client.get("/admin/partners").text
    assert "Legal aid" in listing and "escalations cannot be delivered" in listing
    assert admin_client.get(f"/admin/partners/{partner.id}").status_code == 200
    assert audit_details(app, "organisation_change") == [
        (f"partner:{partner.id}", "partner added keys=2")
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("secret", "Line 2: That is a private key"),
        ("secret-classic", "Line 1: That is a private key"),
        ("none", "at least one public key"),
        ("malformed", "Line 2: This is not an age public key"),
        ("mixed", "mix post-quantum"),
        ("no-name", "This field is required"),
        ("taken", "already a partner named"),
    ],
)
def test_bad_partner_input_is_refused(
    app: Flask, admin_client: FlaskClient, case: str, message: str
) -> None:
    _add_partner(admin_client, "Press desk")
    helpers = _add_partner(admin_client, "Helpers")
    secret = str(crypto.generate_identity())
    classic_secret = str(crypto.generate_identity(post_quantum=False))
    good = _keys(1)[0]
    name, keys = {
        "secret": ("Legal aid", f"{good}\n{secret}"),
        "secret-classic": ("Legal aid", classic_secret),
        "none": ("Legal aid", "# nobody yet\n\n"),
        "malformed": ("Legal aid", f"{good}\nage1qqqq"),
        "mixed": ("Legal aid", f"{good}\n{_keys(1, post_quantum=False)[0]}"),
        "no-name": ("  ", good),
        "taken": ("PRESS DESK", good),
    }[case]
    before = audit_count(app)
    for path in ("/admin/partners/new", f"/admin/partners/{helpers}"):
        response = post(admin_client, path, {"name": name, "recipients": keys})
        assert response.status_code == 400, path
        assert message in errors_shown(response.text), path
        for key in (secret, classic_secret):
            assert key not in response.text and key.lower() not in response.text
    assert [p.name for p in _partners(app)] == ["Press desk", "Helpers"]
    assert audit_count(app) == before


def test_a_partner_is_edited(app: Flask, admin_client: FlaskClient) -> None:
    partner_id = _add_partner(admin_client)
    keys = _keys(1, post_quantum=False)
    data = {"name": "Legal aid network", "recipients": keys[0]}
    assert post(admin_client, f"/admin/partners/{partner_id}", data).status_code == 302
    (partner,) = _partners(app)
    assert (partner.name, partner.recipient_list) == ("Legal aid network", keys)
    assert audit_details(app, "organisation_change")[-1] == (
        f"partner:{partner_id}",
        "partner changed keys=1",
    )


# Channels


def webhook(url: str, secret: str | None = None) -> dict[str, str]:
    """The webhook form's fields: the receiver's URL and the secret it made."""
    return {"webhook-url": url, "webhook-secret": new_secret() if secret is None else secret}


def test_a_partner_webhook_takes_the_receivers_secret(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    partner_id = _add_partner(admin_client)
    secret = new_secret()
    response = post(
        admin_client,
        f"/admin/partners/{partner_id}/webhook",
        webhook(f" {PUBLIC}/hook ", f" {secret}\n"),
        "webhook",
    )
    assert response.status_code == 302
    (channel,) = _channels(app)
    assert (channel.kind, channel.target, channel.secret) == (
        ChannelKind.WEBHOOK,
        f"{PUBLIC}/hook",
        secret,
    )
    assert channel.partner_id == partner_id
    assert channel.organisation_id == people.admin.organisation_id
    page = admin_client.get(f"/admin/partners/{partner_id}").text
    assert f"{PUBLIC}/hook" in page and "whsec_" not in page.replace("whsec_…", "")
    assert secret not in page and "never shown again" in page
    assert 'type="password"' in page  # the pasted secret is not shown while typed either
    assert (f"channel:{channel.id}", f"webhook added partner={partner_id}") in audit_details(
        app, "organisation_change"
    )
    details = " ".join(d for _, d in audit_details(app, "organisation_change"))
    assert "9.9.9.9" not in details and "whsec_" not in details


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "This field is required"),
        ("whsec_c2hvcnQ=", "too short"),
        (new_secret().removeprefix("whsec_"), "must start with whsec_"),
        ("whsec_" + base64.b64encode(b"password" * 4).decode(), "not random"),
        ("whsec_not base64!", "not valid base64"),
    ],
    ids=["empty", "short", "no-prefix", "typed", "not-base64"],
)
def test_a_weak_or_malformed_secret_is_refused(
    app: Flask, admin_client: FlaskClient, secret: str, message: str
) -> None:
    partner_id = _add_partner(admin_client)
    before = audit_count(app)
    for path in (f"/admin/partners/{partner_id}/webhook", "/admin/delivery/webhook"):
        response = post(admin_client, path, webhook(f"{PUBLIC}/hook", secret), "webhook")
        assert response.status_code == 400, path
        shown = errors_shown(response.text)
        assert message in shown, shown
        if secret:
            assert secret not in response.text  # a refused secret is not sent back
            assert "reporting-ngo-receiver --new-secret" in shown
    assert _channels(app) == []
    assert audit_count(app) == before


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "[::1]", "[fd00::1]", "100.64.0.1"],
)
def test_a_webhook_to_a_private_address_is_refused_when_added(
    app: Flask, admin_client: FlaskClient, host: str
) -> None:
    partner_id = _add_partner(admin_client)
    before = audit_count(app)
    for path in (f"/admin/partners/{partner_id}/webhook", "/admin/delivery/webhook"):
        response = post(admin_client, path, webhook(f"https://{host}:8443/in"), "webhook")
        assert response.status_code == 400, path
        shown = errors_shown(response.text)
        assert "REPORTING_WEBHOOK_ALLOWED_NETWORKS" in shown and "private" in shown, shown
    assert _channels(app) == []
    assert audit_count(app) == before


def test_unresolvable_and_metadata_webhooks_are_refused(
    app: Flask, admin_client: FlaskClient
) -> None:
    cases = {
        "https://receiver.invalid/": "cannot be found from this server",
        "http://169.254.169.254/latest": "cloud metadata address",
    }
    for url, message in cases.items():
        response = post(admin_client, "/admin/delivery/webhook", webhook(url), "webhook")
        assert response.status_code == 400
        assert message in errors_shown(response.text)
    assert _channels(app) == []


def test_an_allowed_network_is_accepted(tmp_path: Path, database_url: str) -> None:
    """The operator's REPORTING_WEBHOOK_ALLOWED_NETWORKS opens a network (not metadata)."""
    allowed = admin_app(
        tmp_path, database_url, DELIVERY=DeliverySettings(allowed_networks=("127.0.0.0/8",))
    )
    client = signed_in(allowed, make_people(allowed).admin)
    ok = post(client, "/admin/delivery/webhook", webhook("http://localhost:8080/"), "webhook")
    assert ok.status_code == 302
    assert [c.target for c in _channels(allowed)] == ["http://localhost:8080/"]
    still = post(client, "/admin/delivery/webhook", webhook("http://10.0.0.1/"), "webhook")
    assert still.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "ftp://r.example/",
        "r.example",
        "javascript:alert(1)",
        "https://",
        "https://a b.example/",
        "http://r.example:port/",
    ],
)
def test_a_bad_webhook_url_is_refused(app: Flask, admin_client: FlaskClient, url: str) -> None:
    partner_id = _add_partner(admin_client)
    before = audit_count(app)
    for path in (f"/admin/partners/{partner_id}/webhook", "/admin/delivery/webhook"):
        response = post(admin_client, path, webhook(url), "webhook")
        assert response.status_code == 400, (path, url)
        assert "URL" in errors_shown(response.text)
        assert "whsec_" not in response.text.replace("whsec_…", "")
    assert _channels(app) == []
    assert audit_count(app) == before


@pytest.mark.slow
def test_partner_email_and_switching_channels(app: Flask, admin_client: FlaskClient) -> None:
    partner_id = _add_partner(admin_client)
    data = {"email-address": "intake@legal.example"}
    assert (
        post(admin_client, f"/admin/partners/{partner_id}/email", data, "email").status_code == 302
    )
    (channel,) = _channels(app)
    assert (channel.kind, channel.target, channel.partner_id) == (
        ChannelKind.EMAIL,
        "intake@legal.example",
        partner_id,
    )
    assert "email" in admin_client.get("/admin/partners").text

    assert post(admin_client, f"/admin/channels/{channel.id}/disable").status_code == 302
    assert not _channels(app)[0].enabled
    assert post(admin_client, f"/admin/channels/{channel.id}/disable").status_code == 409
    assert post(admin_client, f"/admin/channels/{channel.id}/enable").status_code == 302
    assert _channels(app)[0].enabled
    details = [
        d for t, d in audit_details(app, "organisation_change") if t == f"channel:{channel.id}"
    ]
    assert details == [
        f"email {what} partner={partner_id}" for what in ("added", "disabled", "enabled")
    ]


@pytest.mark.parametrize(
    "address", ["nobody", "Legal <l@legal.example>", "a@b.example, c@d.example"]
)
def test_a_bad_email_address_is_refused(
    app: Flask, admin_client: FlaskClient, address: str
) -> None:
    partner_id = _add_partner(admin_client)
    for path in (f"/admin/partners/{partner_id}/email", "/admin/delivery/email"):
        response = post(admin_client, path, {"email-address": address}, "email")
        assert response.status_code == 400, path
        assert "address" in errors_shown(response.text)
    assert _channels(app) == []


def test_the_organisations_own_channels(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    secret = new_secret()
    response = post(
        admin_client, "/admin/delivery/webhook", webhook(f"{PUBLIC}/in", secret), "webhook"
    )
    assert response.status_code == 302
    data = {"email-address": "triage@ngo.example"}
    assert post(admin_client, "/admin/delivery/email", data, "email").status_code == 302
    webhook_channel, email = _channels(app)
    assert webhook_channel.partner_id is None and email.partner_id is None
    assert webhook_channel.secret == secret and email.secret == ""
    assert {webhook_channel.organisation_id, email.organisation_id} == {
        people.admin.organisation_id
    }
    page = admin_client.get("/admin/delivery").text
    assert f"{PUBLIC}/in" in page and "triage@ngo.example" in page
    assert secret not in page


@pytest.mark.slow
def test_reports_never_go_to_a_partners_channels(app: Flask, admin_client: FlaskClient) -> None:
    from tests.support.portal import submit_report

    partner_id = _add_partner(admin_client)
    path = f"/admin/partners/{partner_id}/webhook"
    assert post(admin_client, path, webhook("https://9.9.9.10/"), "webhook").status_code == 302
    own = webhook("https://9.9.9.11/")
    assert post(admin_client, "/admin/delivery/webhook", own, "webhook").status_code == 302
    assert submit_report(app.test_client()).status_code == 200
    with app.app_context():
        targets = [d.channel.target for d in db.session().scalars(select(Delivery))]
    assert targets == ["https://9.9.9.11/"]


# Removing a partner


def test_a_partner_without_escalations_is_deleted(app: Flask, admin_client: FlaskClient) -> None:
    partner_id = _add_partner(admin_client)
    post(
        admin_client,
        f"/admin/partners/{partner_id}/email",
        {"email-address": "a@p.example"},
        "email",
    )
    response = post(admin_client, f"/admin/partners/{partner_id}/delete")
    assert response.status_code == 302
    assert _partners(app) == [] and _channels(app) == []
    assert admin_client.get(f"/admin/partners/{partner_id}").status_code == 404
    assert audit_details(app, "organisation_change")[-1] == (
        f"partner:{partner_id}",
        "partner deleted",
    )


@pytest.mark.slow
def test_a_partner_with_escalations_is_kept_and_its_channels_disabled(
    app: Flask, admin_client: FlaskClient
) -> None:
    from tests.support.portal import submit_report

    partner_id = _add_partner(admin_client)
    post(
        admin_client,
        f"/admin/partners/{partner_id}/email",
        {"email-address": "a@p.example"},
        "email",
    )
    assert submit_report(app.test_client()).status_code == 200
    with app.app_context(), db.database().transaction() as session:
        report = session.scalars(select(Report)).one()
        blob = Blob(size=0)
        session.add(blob)
        session.flush()
        session.add(
            Message(
                report_id=report.id,
                seq=1,
                kind=MessageKind.ESCALATION,
                document_blob_id=blob.id,
                partner_id=partner_id,
            )
        )
    response = post(admin_client, f"/admin/partners/{partner_id}/delete")
    assert response.status_code == 302
    assert "is kept" in admin_client.get(response.headers["Location"]).text
    assert [p.id for p in _partners(app)] == [partner_id]
    assert [c.enabled for c in _channels(app)] == [False]
    assert audit_details(app, "organisation_change")[-1] == (
        f"partner:{partner_id}",
        "partner channels disabled",
    )


def test_the_receiver_guide_the_readme_and_the_page_tell_one_flow(
    admin_client: FlaskClient,
) -> None:
    """The receiver makes the secret, its owner hands it over once, the admin pastes it:
    the NGO's guide, the README and the admin page's help say so, and none says the
    service makes or shows one."""
    root = Path(__file__).resolve().parents[2]
    partner_id = _add_partner(admin_client)
    texts = {
        "receiver/README.md": (root / "receiver" / "README.md").read_text(encoding="utf-8"),
        "README.md": (root / "README.md").read_text(encoding="utf-8"),
        "delivery page": admin_client.get("/admin/delivery").text,
        "partner page": admin_client.get(f"/admin/partners/{partner_id}").text,
    }
    for name, text in texts.items():
        flat = " ".join(text.split())
        assert "reporting-ngo-receiver --new-secret" in flat, name
        assert "never shown again" in flat or "never shows one back" in flat, name
        for stale in ("secret is shown once", "is made and shown once", "secret is made here"):
            assert stale not in flat, (name, stale)
    for name in ("receiver/README.md", "README.md"):
        flat = " ".join(texts[name].split())
        assert "the admin pastes" in flat.lower() or "admin pastes" in flat, name
