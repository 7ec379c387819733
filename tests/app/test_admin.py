"""The admin pages: caseworker accounts, the organisation's keys, triage tags, retention,
dead deliveries; and who may use them.

What matters: only an organisation's admins reach these pages (a caseworker gets 403,
nobody signed in is sent to the login page), another organisation's ids are 404, every
POST needs the CSRF token; disabling a caseworker ends their session and tokens at once
and leaves their key out of new reports, re-enabling brings it back; a private key is
never accepted; the last admin and the last key cannot be removed; every change is
audited without content. Bad input is a 4xx that changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

import crypto
from crypto.webhooks import new_secret
from reporting.accounts import signin
from reporting.infra import db
from reporting.models import (
    Caseworker,
    ChannelKind,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    OrganisationRecipient,
    Partner,
    Report,
    Role,
    TriageTag,
)
from reporting.organisations.recipients import find_organisation, recipients_of
from tests.support import casework
from tests.support.admin import (
    ORG,
    OTHER,
    People,
    admin_app,
    audit_count,
    audit_details,
    errors_shown,
    make_people,
    post,
    signed_in,
)
from tests.support.portal import csrf_token, submit_report


def get_caseworker(app: Flask, caseworker_id: str) -> Caseworker:
    with app.app_context():
        return db.session().get_one(Caseworker, caseworker_id)


def report_ids(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session().scalars(select(Report.id)))


def new_report_document(app: Flask) -> bytes:
    """Submit a report through the portal; the ciphertext of its document, as stored."""
    before = report_ids(app)
    assert submit_report(app.test_client()).status_code == 200
    (report_id,) = report_ids(app) - before
    with app.app_context():
        report = db.session().get_one(Report, report_id)
        blob_id = report.messages[0].document_blob_id
    return Path(app.extensions["blobs"].path(blob_id)).read_bytes()


def can_decrypt(ciphertext: bytes, identity: Any) -> bool:
    try:
        crypto.decrypt(ciphertext, [identity])
    except crypto.DecryptionError:
        return False
    return True


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return admin_app(tmp_path, database_url)


@pytest.fixture
def people(app: Flask) -> People:
    return make_people(app)


@pytest.fixture
def admin_client(app: Flask, people: People) -> FlaskClient:
    return signed_in(app, people.admin)


# Who may use the pages


def _routes(ids: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Every admin route, with ids of ORG's rows; True for those that take one."""
    cw, key, tag, partner = ids["caseworker"], ids["key"], ids["tag"], ids["partner"]
    channel, delivery = ids["channel"], ids["delivery"]
    return [
        ("GET", "/admin/", False),
        ("GET", "/admin/caseworkers", False),
        ("POST", "/admin/caseworkers", False),
        ("POST", f"/admin/caseworkers/{cw}/disable", True),
        ("POST", f"/admin/caseworkers/{cw}/enable", True),
        ("POST", f"/admin/caseworkers/{cw}/role", True),
        ("GET", "/admin/keys", False),
        ("POST", "/admin/keys", False),
        ("POST", f"/admin/keys/{key}/remove", True),
        ("GET", "/admin/tags", False),
        ("POST", "/admin/tags", False),
        ("POST", f"/admin/tags/{tag}/rename", True),
        ("POST", f"/admin/tags/{tag}/delete", True),
        ("GET", "/admin/partners", False),
        ("GET", "/admin/partners/new", False),
        ("POST", "/admin/partners/new", False),
        ("GET", f"/admin/partners/{partner}", True),
        ("POST", f"/admin/partners/{partner}", True),
        ("POST", f"/admin/partners/{partner}/webhook", True),
        ("POST", f"/admin/partners/{partner}/email", True),
        ("POST", f"/admin/partners/{partner}/delete", True),
        ("GET", "/admin/delivery", False),
        ("POST", "/admin/delivery/webhook", False),
        ("POST", "/admin/delivery/email", False),
        ("POST", "/admin/delivery/settings", False),
        ("POST", f"/admin/channels/{channel}/enable", True),
        ("POST", f"/admin/channels/{channel}/disable", True),
        ("GET", "/admin/deliveries/dead", False),
        ("POST", "/admin/deliveries/dead/retry", False),
        ("POST", f"/admin/deliveries/{delivery}/retry", True),
    ]


@pytest.fixture
def org_rows(app: Flask, people: People, admin_client: FlaskClient) -> dict[str, Any]:
    """One of each of ORG's rows that the routes take ids of, made through the pages."""
    escrow = crypto.generate_identity()
    assert (
        post(admin_client, "/admin/keys", {"recipient": str(escrow.recipient)}).status_code == 302
    )
    assert post(admin_client, "/admin/tags", {"new-name": "family"}, "new").status_code == 302
    partner_key = crypto.generate_identity().recipient
    response = post(
        admin_client, "/admin/partners/new", {"name": "Legal aid", "recipients": str(partner_key)}
    )
    assert response.status_code == 302
    response = post(
        admin_client,
        "/admin/delivery/webhook",
        {"webhook-url": "https://9.9.9.9/", "webhook-secret": new_secret()},
        "webhook",
    )
    assert response.status_code == 302
    assert submit_report(app.test_client()).status_code == 200
    with app.app_context(), db.database().transaction() as session:
        org = find_organisation(session, ORG)
        assert org is not None
        delivery = session.scalars(select(Delivery)).one()
        delivery.state, delivery.attempts, delivery.last_error = DeliveryState.DEAD, 3, "HTTP 500"
        return {
            "caseworker": people.alice.id,
            "key": session.scalars(
                select(OrganisationRecipient.id).where(
                    OrganisationRecipient.recipient == str(escrow.recipient)
                )
            ).one(),
            "tag": session.scalars(select(TriageTag.id)).one(),
            "partner": session.scalars(select(Partner.id)).one(),
            "channel": delivery.channel_id,
            "delivery": delivery.id,
        }


def _send(client: FlaskClient, method: str, path: str, token: bool = True) -> TestResponse:
    if method == "GET":
        return client.get(path)
    return post(client, path) if token else client.post(path, data={})


@pytest.mark.slow
def test_not_signed_in_goes_to_the_login_page(app: Flask, org_rows: dict[str, Any]) -> None:
    client = app.test_client()
    before = audit_count(app)
    for method, path, takes_id in _routes(org_rows):
        response = client.get(path) if method == "GET" else client.post(path)
        # A POST without a session has no CSRF token either; both refusals change nothing.
        if method == "GET":
            assert response.status_code == 302, path
            assert "/casework/login" in response.headers["Location"], path
        else:
            assert response.status_code in (302, 400), path
    assert audit_count(app) == before


@pytest.mark.slow
def test_not_signed_in_post_with_a_token_goes_to_the_login_page(
    app: Flask, org_rows: dict[str, Any]
) -> None:
    client = app.test_client()
    token = csrf_token(client, "/casework/login")
    for method, path, takes_id in _routes(org_rows):
        if method == "POST":
            response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 302, path
            assert "/casework/login" in response.headers["Location"], path


@pytest.mark.slow
def test_a_caseworker_gets_403_on_every_admin_route(
    app: Flask, people: People, org_rows: dict[str, Any]
) -> None:
    client = signed_in(app, people.alice)
    before = audit_count(app)
    for method, path, takes_id in _routes(org_rows):
        assert _send(client, method, path).status_code == 403, (method, path)
    assert audit_count(app) == before
    assert get_caseworker(app, people.alice.id).active


@pytest.mark.slow
def test_another_organisations_admin_gets_404_for_our_ids(
    app: Flask, people: People, org_rows: dict[str, Any]
) -> None:
    client = signed_in(app, people.other)
    before = audit_count(app)
    for method, path, takes_id in _routes(org_rows):
        if takes_id:
            assert _send(client, method, path).status_code == 404, (method, path)
    # Their own pages show nothing of ours.
    for path in ("/admin/caseworkers", "/admin/keys", "/admin/tags", "/admin/partners"):
        page = client.get(path).text
        assert "alice" not in page and "family" not in page and "Legal aid" not in page
    dead = client.get("/admin/deliveries/dead").text
    assert org_rows["delivery"] not in dead
    assert post(client, "/admin/deliveries/dead/retry").status_code == 302
    with app.app_context():
        session = db.session()
        assert session.get_one(Delivery, org_rows["delivery"]).state == DeliveryState.DEAD
        assert session.get_one(Caseworker, people.alice.id).active
        assert session.get(TriageTag, org_rows["tag"]) is not None
        assert session.get_one(DeliveryChannel, org_rows["channel"]).enabled
    assert audit_count(app) == before


@pytest.mark.slow
def test_every_admin_post_needs_the_csrf_token(
    app: Flask, admin_client: FlaskClient, org_rows: dict[str, Any]
) -> None:
    before = audit_count(app)
    for method, path, takes_id in _routes(org_rows):
        if method == "POST":
            response = admin_client.post(path, data={"csrf_token": "forged"})
            assert response.status_code == 400, path
            assert admin_client.post(path, data={}).status_code == 400, path
    assert audit_count(app) == before


def test_the_overview_links_every_page(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/")
    assert page.status_code == 200
    for path in ("caseworkers", "keys", "tags", "partners", "delivery", "deliveries/dead"):
        assert f'href="/admin/{path}"' in page.text
    assert "<script" not in page.text


# Caseworkers


def test_the_caseworkers_page_lists_accounts(admin_client: FlaskClient, people: People) -> None:
    page = admin_client.get("/admin/caseworkers").text
    row = page[page.index(f'id="cw-{people.alice.id}"') :].split("</tr>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[:5] == ["", "caseworker", "yes", "yes", "yes"]  # name, role, active, key, totp
    boss = page[page.index(f'id="cw-{people.admin.id}"') :].split("</tr>")[0]
    assert re.findall(r"<td>([^<]*)</td>", boss)[:5] == ["", "admin", "yes", "no", "yes"]


@pytest.mark.slow
def test_invite_shows_the_link_once(app: Flask, admin_client: FlaskClient) -> None:
    response = post(
        admin_client,
        "/admin/caseworkers",
        {"username": " Carol ", "display_name": "Carol  Chen", "role": "admin"},
    )
    assert response.status_code == 200
    match = re.search(r'value="(http://localhost/casework/invite/([^"]+))"', response.text)
    assert match, response.text
    assert "safe channel" in response.text
    with app.app_context():
        from reporting.accounts.caseworkers import find_invited

        carol = find_invited(db.session(), match.group(2))
        assert carol is not None
        assert (carol.username, carol.display_name, carol.role) == (
            "carol",
            "Carol Chen",
            Role.ADMIN,
        )
        assert not carol.password_hash
    # The list shows the account, not the link.
    page = admin_client.get("/admin/caseworkers").text
    assert "carol" in page and match.group(2) not in page
    assert ("invited role=admin") in [d for _, d in audit_details(app, "account_change")]
    # The link opens the invitation page.
    assert app.test_client().get(match.group(1)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "", "role": "caseworker"}, "This field is required"),
        ({"username": "alice", "role": "caseworker"}, "is taken"),
        ({"username": "no spaces", "role": "caseworker"}, "digits, dots, dashes"),
        ({"username": "dave", "role": "owner"}, "Not a valid choice"),
        ({"username": "dave", "role": "caseworker", "display_name": "x" * 201}, "200"),
    ],
)
def test_a_bad_invitation_is_refused(
    app: Flask, admin_client: FlaskClient, fields: dict[str, str], message: str
) -> None:
    before = audit_count(app)
    response = post(admin_client, "/admin/caseworkers", fields)
    assert response.status_code == 400
    assert message in errors_shown(response.text)
    assert 'aria-invalid="true"' in response.text
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Caseworker)) == 3
    assert audit_count(app) == before


@pytest.mark.slow
def test_disabling_ends_sessions_and_tokens_and_drops_the_key(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    alice_client = signed_in(app, people.alice)
    assert alice_client.get("/casework/").status_code == 200
    token = casework.api_token(app, people.alice)

    # While alice is active, a new report is encrypted to her key.
    assert can_decrypt(new_report_document(app), people.alice.identity)

    response = post(admin_client, f"/admin/caseworkers/{people.alice.id}/disable")
    assert response.status_code == 302
    # Her session and token end at once.
    response = alice_client.get("/casework/")
    assert response.status_code == 302 and "/casework/login" in response.headers["Location"]
    with app.app_context():
        assert signin.find_token(db.session(), token) is None
        alice = db.session().get_one(Caseworker, people.alice.id)
        assert not alice.active
        assert all(t.revoked for t in alice.tokens)
    # Only the admin's organisation key (none here) and other active keys remain: add an
    # escrow key so the portal still has someone to encrypt to.
    escrow = crypto.generate_identity()
    assert (
        post(admin_client, "/admin/keys", {"recipient": str(escrow.recipient)}).status_code == 302
    )
    document = new_report_document(app)
    assert can_decrypt(document, escrow)
    assert not can_decrypt(document, people.alice.identity)
    assert (people.alice.id, "disabled") in audit_details(app, "account_change")

    # Re-enabled, her key is used again (and she may sign in again).
    assert post(admin_client, f"/admin/caseworkers/{people.alice.id}/enable").status_code == 302
    document = new_report_document(app)
    assert can_decrypt(document, people.alice.identity) and can_decrypt(document, escrow)
    assert get_caseworker(app, people.alice.id).active
    assert signed_in(app, people.alice).get("/casework/").status_code == 200
    assert (people.alice.id, "enabled") in audit_details(app, "account_change")


def test_disabling_the_last_key_holder_warns(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    response = post(admin_client, f"/admin/caseworkers/{people.alice.id}/disable")
    assert response.status_code == 302
    page = admin_client.get("/admin/caseworkers").text
    assert "No key is left" in page
    with app.app_context():
        org = find_organisation(db.session(), ORG)
        assert org is not None and recipients_of(org) == []


def test_the_last_admin_cannot_disable_or_demote_themselves(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    before = audit_count(app)
    response = post(admin_client, f"/admin/caseworkers/{people.admin.id}/disable")
    assert response.status_code == 409
    assert "last active admin" in response.text
    prefix = f"cw-{people.admin.id}"
    response = post(
        admin_client,
        f"/admin/caseworkers/{people.admin.id}/role",
        {f"{prefix}-role": "caseworker"},
        prefix,
    )
    assert response.status_code == 409
    assert "last active admin" in response.text
    boss = get_caseworker(app, people.admin.id)
    assert boss.active and boss.role is Role.ADMIN
    assert audit_count(app) == before

    # With alice made an admin, the first may step down.
    prefix_a = f"cw-{people.alice.id}"
    response = post(
        admin_client,
        f"/admin/caseworkers/{people.alice.id}/role",
        {f"{prefix_a}-role": "admin"},
        prefix_a,
    )
    assert response.status_code == 302
    assert get_caseworker(app, people.alice.id).role is Role.ADMIN
    response = post(
        admin_client,
        f"/admin/caseworkers/{people.admin.id}/role",
        {f"{prefix}-role": "caseworker"},
        prefix,
    )
    assert response.status_code == 302
    assert get_caseworker(app, people.admin.id).role is Role.CASEWORKER
    # No longer an admin: the pages close to them at once.
    assert admin_client.get("/admin/").status_code == 403
    details = audit_details(app, "account_change")
    assert (people.alice.id, "role=admin") in details
    assert (people.admin.id, "role=caseworker") in details


def test_changing_state_twice_is_a_conflict(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    assert post(admin_client, f"/admin/caseworkers/{people.alice.id}/enable").status_code == 409
    prefix = f"cw-{people.alice.id}"
    response = post(
        admin_client,
        f"/admin/caseworkers/{people.alice.id}/role",
        {f"{prefix}-role": "caseworker"},
        prefix,
    )
    assert response.status_code == 409
    response = post(
        admin_client, f"/admin/caseworkers/{people.alice.id}/role", {f"{prefix}-role": "x"}, prefix
    )
    assert response.status_code == 400
    assert post(admin_client, "/admin/caseworkers/nobody/disable").status_code == 404


# Keys


def test_keys_are_listed_with_whose_and_whether_used(
    admin_client: FlaskClient, people: People
) -> None:
    page = admin_client.get("/admin/keys").text
    assert "alice" in page
    assert str(people.alice.identity.recipient)[:24] in page
    assert "Remove" not in page  # a caseworker's key is theirs to change


@pytest.mark.slow
def test_an_organisation_key_is_added_and_used(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    escrow = crypto.generate_identity()
    response = post(
        admin_client,
        "/admin/keys",
        {"recipient": f"  {escrow.recipient}  ", "label": "escrow, kept offline"},
    )
    assert response.status_code == 302
    page = admin_client.get("/admin/keys").text
    assert "escrow, kept offline" in page and "Organisation key" in page
    document = new_report_document(app)
    assert can_decrypt(document, escrow) and can_decrypt(document, people.alice.identity)
    assert [d for _, d in audit_details(app, "key_change")] == ["org key added"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("secret", "private key"),
        ("secret-classic", "private key"),
        ("garbage", "not an age public key"),
        ("duplicate", "already one of"),
        ("classic", "mixing kinds"),
        ("empty", "This field is required"),
    ],
)
def test_a_bad_organisation_key_is_refused(
    app: Flask, people: People, admin_client: FlaskClient, kind: str, message: str
) -> None:
    identity = crypto.generate_identity()
    text = {
        "secret": str(identity),
        "secret-classic": str(crypto.generate_identity(post_quantum=False)),
        "garbage": "age1notakey",
        "duplicate": str(people.alice.identity.recipient),
        "classic": str(crypto.generate_identity(post_quantum=False).recipient),
        "empty": "",
    }[kind]
    before = audit_count(app)
    response = post(admin_client, "/admin/keys", {"recipient": text, "label": "x"})
    assert response.status_code == 400
    assert message in errors_shown(response.text)
    if kind.startswith("secret"):
        assert text not in response.text and text.upper() not in response.text
    with app.app_context():
        count = db.session().scalar(select(func.count()).select_from(OrganisationRecipient))
        assert count == 2  # alice's and other's
    assert audit_count(app) == before


@pytest.mark.slow
def test_removing_an_organisation_key(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    escrow = crypto.generate_identity()
    post(admin_client, "/admin/keys", {"recipient": str(escrow.recipient)})
    with app.app_context():
        rows = db.session().scalars(select(OrganisationRecipient)).all()
        escrow_id = next(r.id for r in rows if r.recipient == str(escrow.recipient))
        alice_key = next(r.id for r in rows if r.caseworker_id == people.alice.id)
    # A caseworker's key is not removed here.
    assert post(admin_client, f"/admin/keys/{alice_key}/remove").status_code == 409
    # With alice disabled, the escrow key is the last one new reports could use.
    post(admin_client, f"/admin/caseworkers/{people.alice.id}/disable")
    response = post(admin_client, f"/admin/keys/{escrow_id}/remove")
    assert response.status_code == 409
    assert "last key" in response.text
    # With alice back, it may go.
    post(admin_client, f"/admin/caseworkers/{people.alice.id}/enable")
    assert post(admin_client, f"/admin/keys/{escrow_id}/remove").status_code == 302
    with app.app_context():
        assert db.session().get(OrganisationRecipient, escrow_id) is None
    assert not can_decrypt(new_report_document(app), escrow)
    assert (str(escrow_id), "org key removed") in audit_details(app, "key_change")


# Tags


@pytest.mark.slow
def test_tags_are_added_renamed_and_deleted(
    app: Flask, people: People, admin_client: FlaskClient
) -> None:
    assert (
        post(admin_client, "/admin/tags", {"new-name": "  police   station "}, "new").status_code
        == 302
    )
    with app.app_context():
        tag = db.session().scalars(select(TriageTag)).one()
        assert tag.name == "police station"
        tag_id = tag.id
    assert "police station" in admin_client.get("/admin/tags").text

    prefix = f"tag-{tag_id}"
    response = post(
        admin_client, f"/admin/tags/{tag_id}/rename", {f"{prefix}-name": "Police"}, prefix
    )
    assert response.status_code == 302
    # Renaming to the same name in another case is allowed for the tag itself.
    response = post(
        admin_client, f"/admin/tags/{tag_id}/rename", {f"{prefix}-name": "police"}, prefix
    )
    assert response.status_code == 302

    # Put it on a report, then delete it: the report loses it.
    assert submit_report(app.test_client()).status_code == 200
    with app.app_context(), db.database().transaction() as session:
        report = session.scalars(select(Report)).one()
        report.tags.append(session.get_one(TriageTag, tag_id))
    assert post(admin_client, f"/admin/tags/{tag_id}/delete").status_code == 302
    with app.app_context():
        session = db.session()
        assert session.get(TriageTag, tag_id) is None
        assert session.scalars(select(Report)).one().tags == []
    details = [d for _, d in audit_details(app, "organisation_change")]
    assert details == ["tag added", "tag renamed", "tag renamed", "tag deleted"]
    assert all("police" not in d.lower() for d in details)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required"),
        ("   ", "This field is required"),
        ("bell\x07", "1 to 64"),
        ("x" * 65, "1 to 64"),
        ("FAMILY", "already"),
    ],
)
def test_a_bad_tag_name_is_refused(
    app: Flask, admin_client: FlaskClient, name: str, message: str
) -> None:
    post(admin_client, "/admin/tags", {"new-name": "family"}, "new")
    post(admin_client, "/admin/tags", {"new-name": "police"}, "new")
    before = audit_count(app)
    response = post(admin_client, "/admin/tags", {"new-name": name}, "new")
    assert response.status_code == 400
    assert message in errors_shown(response.text)
    with app.app_context():
        police = db.session().scalars(select(TriageTag).where(TriageTag.name == "police")).one()
    prefix = f"tag-{police.id}"
    response = post(
        admin_client, f"/admin/tags/{police.id}/rename", {f"{prefix}-name": name}, prefix
    )
    assert response.status_code == 400
    assert message in errors_shown(response.text)
    with app.app_context():
        names = sorted(db.session().scalars(select(TriageTag.name)))
    assert names == ["family", "police"]
    assert audit_count(app) == before


# Retention and notices


def test_retention_and_notices_are_set(app: Flask, admin_client: FlaskClient) -> None:
    data = {"settings-retention_days": "30", "settings-notify_email": "triage@ngo.example"}
    assert post(admin_client, "/admin/delivery/settings", data, "settings").status_code == 302
    with app.app_context():
        org = find_organisation(db.session(), ORG)
        assert org is not None
        assert (org.retention_days, org.notify_email) == (30, "triage@ngo.example")
    assert audit_details(app, "organisation_change") == [("", "retention_days=30 notify=on")]


@pytest.mark.parametrize(
    ("days", "address", "message"),
    [
        ("0", "", "between 1 and 3650"),
        ("many", "", "Not a valid integer"),
        ("30", "Triage <t@ngo.example>", "bare address"),
        ("30", "nobody", "plain address"),
    ],
)
def test_bad_settings_are_refused(
    app: Flask, admin_client: FlaskClient, days: str, address: str, message: str
) -> None:
    data = {"settings-retention_days": days, "settings-notify_email": address}
    response = post(admin_client, "/admin/delivery/settings", data, "settings")
    assert response.status_code == 400
    assert message in errors_shown(response.text)
    with app.app_context():
        org = find_organisation(db.session(), ORG)
        assert org is not None and (org.retention_days, org.notify_email) == (90, "")
    assert audit_details(app, "organisation_change") == []


# Dead deliveries


@pytest.fixture
def dead(app: Flask, people: People) -> dict[str, str]:
    """Two of ORG's deliveries dead, one delivered; and one of OTHER's dead."""
    with app.app_context(), db.database().transaction() as session:
        for name in (ORG, OTHER):
            session.add(
                DeliveryChannel(
                    organisation=find_organisation(session, name),
                    kind=ChannelKind.WEBHOOK,
                    target=f"https://{name.split()[0].lower()}.example/",
                    secret=new_secret(),
                )
            )
    for _ in range(3):
        assert submit_report(app.test_client()).status_code == 200
    with app.app_context(), db.database().transaction() as session:
        ours = sorted(session.scalars(select(Delivery)), key=lambda d: d.id)
        for row in ours[:2]:
            row.state, row.attempts, row.last_error = DeliveryState.DEAD, 3, "HTTP 503"
        ours[2].state = DeliveryState.DELIVERED
        other_channel = session.scalars(
            select(DeliveryChannel).where(
                DeliveryChannel.organisation_id == people.other.organisation_id
            )
        ).one()
        theirs = Delivery(
            channel_id=other_channel.id,
            report_id=ours[0].report_id,
            message_id=ours[0].message_id,
            blob_id=ours[0].blob_id,
            state=DeliveryState.DEAD,
            attempts=3,
            last_error="HTTP 404",
        )
        session.add(theirs)
        session.flush()
        return {
            "dead-1": ours[0].id,
            "dead-2": ours[1].id,
            "delivered": ours[2].id,
            "theirs": theirs.id,
        }


def _states(app: Flask) -> dict[str, tuple[DeliveryState, int]]:
    with app.app_context():
        return {d.id: (d.state, d.attempts) for d in db.session().scalars(select(Delivery))}


@pytest.mark.slow
def test_dead_deliveries_are_listed_for_the_own_organisation_only(
    admin_client: FlaskClient, dead: dict[str, str]
) -> None:
    page = admin_client.get("/admin/deliveries/dead").text
    assert dead["dead-1"] in page and dead["dead-2"] in page
    assert "HTTP 503" in page and "document" in page
    assert dead["theirs"] not in page and "HTTP 404" not in page
    assert dead["delivered"] not in page


@pytest.mark.slow
def test_retrying_one_dead_delivery(
    app: Flask, admin_client: FlaskClient, dead: dict[str, str]
) -> None:
    assert post(admin_client, f"/admin/deliveries/{dead['dead-1']}/retry").status_code == 302
    states = _states(app)
    assert states[dead["dead-1"]] == (DeliveryState.PENDING, 0)
    assert states[dead["dead-2"]] == (DeliveryState.DEAD, 3)
    assert states[dead["theirs"]] == (DeliveryState.DEAD, 3)
    with app.app_context():
        row = db.session().get_one(Delivery, dead["dead-1"])
        assert row.due_at is None and row.lease_until is None and row.lease_token is None
    assert audit_details(app, "delivery_retry") == [(dead["dead-1"], "retried=1")]
    # No longer dead: a second retry is a conflict; another organisation's or a made-up id
    # is not found; a delivered one is no dead one either.
    assert post(admin_client, f"/admin/deliveries/{dead['dead-1']}/retry").status_code == 409
    assert post(admin_client, f"/admin/deliveries/{dead['theirs']}/retry").status_code == 404
    assert post(admin_client, "/admin/deliveries/nothing/retry").status_code == 404
    assert post(admin_client, f"/admin/deliveries/{dead['delivered']}/retry").status_code == 409
    assert _states(app)[dead["theirs"]] == (DeliveryState.DEAD, 3)
    assert _states(app)[dead["delivered"]][0] == DeliveryState.DELIVERED


@pytest.mark.slow
def test_retrying_all_touches_only_the_own_organisation(
    app: Flask, admin_client: FlaskClient, dead: dict[str, str]
) -> None:
    response = post(admin_client, "/admin/deliveries/dead/retry")
    assert response.status_code == 302
    assert "2 deliveries will be tried again" in admin_client.get("/admin/deliveries/dead").text
    states = _states(app)
    assert states[dead["dead-1"]] == states[dead["dead-2"]] == (DeliveryState.PENDING, 0)
    assert states[dead["theirs"]] == (DeliveryState.DEAD, 3)
    assert audit_details(app, "delivery_retry") == [("all", "retried=2")]


def test_the_deletion_delay_and_maximum_age_are_set(app: Flask, admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/delivery").text
    assert 'name="settings-deletion_delay_days"' in page and 'value="7"' in page
    assert 'name="settings-max_report_age_days"' in page and 'value="365"' in page
    data = {
        "settings-retention_days": "90",
        "settings-deletion_delay_days": "3",
        "settings-max_report_age_days": "200",
        "settings-notify_email": "",
    }
    assert post(admin_client, "/admin/delivery/settings", data, "settings").status_code == 302
    with app.app_context():
        org = find_organisation(db.session(), ORG)
        assert org is not None
        assert (org.deletion_delay_days, org.max_report_age_days) == (3, 200)
    assert audit_details(app, "organisation_change") == [
        ("", "deletion_delay_days=3 max_report_age_days=200")
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deletion_delay_days", "-1", "between 0 and 90"),
        ("deletion_delay_days", "soon", "Not a valid integer"),
        ("max_report_age_days", "0", "between 1 and 3650"),
    ],
)
def test_a_bad_delay_or_age_is_refused(
    app: Flask, admin_client: FlaskClient, field: str, value: str, message: str
) -> None:
    data = {"settings-retention_days": "90", f"settings-{field}": value}
    response = post(admin_client, "/admin/delivery/settings", data, "settings")
    assert response.status_code == 400
    assert message in errors_shown(response.text)
    with app.app_context():
        org = find_organisation(db.session(), ORG)
        assert org is not None
        assert (org.deletion_delay_days, org.max_report_age_days) == (7, 365)
    assert audit_details(app, "organisation_change") == []
