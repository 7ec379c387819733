"""Whatever arrives at a form or an API endpoint, the answer is never a 5xx and nothing is
half-stored (invariant 5), with hypothesis drawing the requests.

The targets are read from the app: every POST, PUT, PATCH and DELETE route of the URL map
and the GET routes, each form's fields from the HTML of the pages that show it (so a new
route or field is fuzzed the day it appears), the API's JSON fields from API_FIELDS (a
new API route fails `test_every_route_is_a_target` until it is added there).

Most requests carry a valid session and CSRF token (or API token), so they reach the
validators; their fields come as files, lists, twice, missing, empty, too long, in bad
encodings (invalid UTF-8, NUL, surrogates), and the bodies in the wrong content type,
truncated or mangled. After each request: no 5xx (the app runs with TESTING, so an
exception fails the test with its traceback), a refusal is our readable page (JSON under
/api/), a refused request changed no row (but the audit log and login throttle), and
every blob on disk belongs to a row, with no temporary or stray file left.

A successful report costs a 64 MiB Argon2id derivation, so the routes that derive or
hash are drawn less often, and most of their requests fail validation cheaply.

FUZZ_EXAMPLES sets the number of requests on each database (by default a CI-sized run,
CI_EXAMPLES; `make fuzz` runs 10,000 on each). Failing examples are kept in hypothesis's
database under .hypothesis/ (not committed) and replayed first on the next run.
"""

from __future__ import annotations

import io
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.test import EnvironBuilder, TestResponse

from reporting.infra import db
from reporting.infra.blobs import BlobStore
from reporting.infra.config import CODENAME_SALT_FILE, DATABASE_FILE, SECRET_KEY_FILE
from reporting.models import Blob, KeptUpload
from tests.support import fuzzing
from tests.support.casework import (
    PASSWORD,
    api_app,
    bearer,
)
from tests.support.fuzz_world import ACTORS, ORGANISATION, Actors, actor_of, crawl, heal, make_world
from tests.support.fuzzing import FieldSpec, Live, Part, Plan, Target
from tests.support.portal import NARRATIVE
from tests.support.world import fill_url, routes, snapshot

CI_EXAMPLES = {"sqlite": 1000, "postgresql": 200}
# Rows that refused requests may write: the audit, login attempts, ended session ids.
# A form that comes back with an error (a 400) keeps its files for the session (kept_upload):
# that is not a half-stored submission (tests/app/test_kept_files.py covers what it keeps).
VOLATILE_TABLES = {"audit_entry", "login_throttle", "revoked_session", "kept_upload"}
CSRF_MESSAGE = "This form has expired or was already sent"
# Routes that derive a codename key or hash a password when their form is valid.
EXPENSIVE = {
    "reporter.report",
    "reporter.come_back",
    "reporter.followup",
    "casework.login",
    "casework.accept_invite",
    "casework.change_password",
    "casework.change_key",
    "casework.renew_recovery_codes",
    "api.login",
}
WEIGHTS = {**dict.fromkeys(EXPENSIVE, 1), "reporter.report": 3}
# Pages a signed-in reporter is sent back to, and caseworkers: a redirect there is a refusal.
REFUSAL_REDIRECTS = ("/return", "/casework/login")
ZH_NARRATIVE = (
    "两名自称是我家乡公安局的人给我母亲打电话\uff0c要求我必须回国\uff0c否则我的家人会有麻烦\u3002"
)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


# The JSON fields of each API body (docs/caseworker-api.md): good values, as JSON text.
API_FIELDS: dict[str, dict[str, list[fuzzing.Value]]] = {
    "api.login": {"username": [b'"ada"'], "password": [_json(PASSWORD)], "code": [Live("totp")]},
    "api.logout": {},
    "api.set_recipient": {"recipient": [Live("recipient")]},
    "api.reply": {"ciphertext": [Live("armored")]},
    "api.note": {"ciphertext": [Live("armored")]},
    "api.put_status_note": {"ciphertext": [Live("armored")]},
    "api.delete_status_note": {},
    "api.triage": {
        "status": [b'"triaged"', b'"closed"', b'"new"'],
        "severity": [b'"high"', b"null"],
        "assignee": [Live("bob"), b"null", b'""'],
        "tags": [b'["family"]', b"[]"],
    },
}
# The multipart API body (docs/caseworker-api.md, escalations).
API_PARTS = {
    "api.escalate": {
        "partner": FieldSpec("partner", "text"),
        "document": FieldSpec("document", "file"),
        "attachment": FieldSpec("attachment", "files"),
    }
}
JSON_JUNK = [
    b"0",
    b"-1",
    b"1e999",
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'"\\u0000"',
    b'"\\ud800"',
    b'"a\\udfff"',
    b'"\\ufffd"',
    b"NaN",
    b"1" * 5000,
    b'[["family"]]',
    b'{"a": "\\u0000"}',
    b'"\xff\xfe"',
    b'"' + b"x" * (1024 * 1024 + 1) + b'"',
]


def hints(endpoint: str) -> Callable[[str], list[fuzzing.Value]]:
    """Good values for a field, by its name: what a person would type there."""
    by_name: dict[str, list[fuzzing.Value]] = {
        "narrative": [NARRATIVE.encode(), ZH_NARRATIVE.encode()],
        "message": [NARRATIVE.encode(), b"One more thing."],
        "codename": [Live("codename"), b"apple banana cherry"],
        "username": [b"ada", b"bob", b"new-person"],
        "password": [PASSWORD.encode(), b"another long passphrase 42"],
        "confirm": [b"another long passphrase 42", PASSWORD.encode()],
        "current": [PASSWORD.encode(), b"wrong"],
        "code": [Live("totp-eve" if endpoint == "casework.enrol" else "totp"), b"000000"],
        "recipient": [Live("recipient"), b"AGE-SECRET-KEY-1QQQ", b"age1junk"],
        "recipients": [Live("recipient")],
        "url": [b"https://ngo.example/hook", b"http://127.0.0.1/x"],
        "address": [b"intake@ngo.example", b"not-an-address"],
        "notify_email": [b"", b"notices@ngo.example"],
        "name": [b"family", b"Legal aid", b"new tag"],
        "retention_days": [b"30", b"0", b"99999999999999999999"],
        "date_from": [b"2025-03", b"2025-03-14"],
        "date_to": [b"", b"2025-04"],
        "website": [b""],
        "note": [b"", b"We are looking into it."],
        "partner": [Live("partner"), b"Legal aid", b"99999999999999999999"],
        "file": [Live("age"), b"plain bytes"],
    }
    return lambda name: by_name.get(name, [b"", b"Lyon", b"a few words"])


@pytest.fixture
def fuzz_app(tmp_path: Path, database_url: str) -> Flask:
    """The embedded default (no Redis), filing reports with organisation A."""
    return api_app(tmp_path, database_url, ORGANISATION=ORGANISATION, REDIS_URL=None)


def targets(app: Flask, actors: Actors, ids: dict[str, str]) -> list[Target]:
    """Every route: forms as crawled, the API from API_FIELDS, other GETs with a query."""
    found = crawl(app, actors, ids)
    for rule, method in routes(app, ("reporter.", "casework.", "admin.", "api.", "i18n.")):
        key = (rule.endpoint, method)
        if key in found:
            continue
        path = fill_url(rule, ids) if rule.endpoint != "i18n.language" else "/language/zh_Hans"
        target = Target(rule.endpoint, method, rule.rule, [path], actor_of(rule.endpoint), "query")
        if rule.endpoint in API_FIELDS:
            target.encoding = "json"
            target.fields = {name: FieldSpec(name, "json") for name in API_FIELDS[rule.endpoint]}
        elif rule.endpoint in API_PARTS:
            target.encoding = "multipart"
            target.fields = dict(API_PARTS[rule.endpoint])
        elif method != "GET":
            continue  # a form no page shows: test_every_route_is_a_target names it
        found[key] = target
    return list(found.values())


def weighted(found: list[Target]) -> list[Target]:
    """Cheap routes four times as often as those that derive or hash when valid; the
    report form three times, so that a run files some reports."""
    ordered = sorted(found, key=lambda t: (t.endpoint in EXPENSIVE, t.endpoint, t.method))
    return [t for t in ordered for _ in range(WEIGHTS.get(t.endpoint, 4))]


# --- Drawing a request --------------------------------------------------------------------------


MODES = ("mutate", "valid", "mutate", "chaos")
ENCODINGS = ("multipart", "urlencoded", "json", "text", "none", "junk")
CORRUPTIONS = (
    "",
    "cut",
    "no-close",
    "wrong-boundary",
    "no-boundary",
    "not-object",
    "deep",
    "invalid",
    "chunked",
    "charset",
)
EXTRA_PART = st.builds(Part, st.sampled_from(fuzzing.JUNK_NAMES), fuzzing.JUNK_TEXT)
choice = fuzzing.choice


def json_parts(draw: st.DrawFn, target: Target, valid: bool) -> list[Part]:
    parts = []
    for name, good in API_FIELDS[target.endpoint].items():
        shape = "normal" if valid else draw(choice(fuzzing.SHAPES))
        if shape == "missing":
            continue
        value = draw(choice(tuple(good) if shape == "normal" else tuple(JSON_JUNK)))
        parts.extend(Part(name, value) for _ in range(2 if shape in ("twice", "many") else 1))
    return parts


def body_parts(draw: st.DrawFn, target: Target, valid: bool) -> list[Part]:
    hint = hints(target.endpoint)
    files = tuple(hint("file"))
    if target.encoding == "json":
        return json_parts(draw, target, valid)
    parts = []
    for spec in target.fields.values():
        parts += fuzzing.field_parts(draw, spec, fuzzing.valid_values(spec, hint), files, valid)
    if not valid:
        parts += draw(st.lists(EXTRA_PART | fuzzing.file_part("x", files), max_size=2))
    return parts


def plans(choices: tuple[Target, ...]) -> st.SearchStrategy[Plan]:
    """Requests to the targets (a closure: hypothesis would print the targets at length)."""
    return st.composite(lambda draw: draw_plan(draw, choices))()


def draw_plan(draw: st.DrawFn, choices: tuple[Target, ...]) -> Plan:
    target = choices[draw(choice(tuple(range(len(choices)))))]
    mode = draw(choice(MODES))
    actor = target.actor if mode != "chaos" else draw(choice((*ACTORS, "api")))
    path = fuzzing.path_for(
        target.rule, target.paths, mode == "chaos" and draw(st.booleans()), draw
    )
    parts = body_parts(draw, target, mode == "valid")
    encoding = target.encoding if target.encoding != "query" else "none"
    corruption = ""
    if mode == "chaos":
        encoding = draw(choice(ENCODINGS))
        corruption = draw(choice(CORRUPTIONS))
    elif mode == "mutate" and target.encoding in ("multipart", "urlencoded"):
        encoding = draw(choice((target.encoding, target.encoding, "multipart", "urlencoded")))
    query = ""
    if target.encoding == "query" and mode != "chaos":
        query = "&".join(
            f"{urllib.parse.quote(p.name)}={urllib.parse.quote_from_bytes(p.value)}"
            for p in parts
            if isinstance(p.value, bytes) and p.filename is None
        )
    elif mode != "valid" and draw(st.booleans()):
        query = fuzzing.query_string(draw, list(target.fields))
    return Plan(
        target,
        actor,
        path,
        query,
        encoding,
        parts if target.encoding != "query" else [],
        corruption,
        cut=draw(choice((0.5, 0.1, 0.9, 0.99))),
        auth="token" if mode != "chaos" else draw(choice(("token", "none", "junk"))),
        junk=draw(st.binary(max_size=200)) if encoding == "junk" else b"",
    )


# --- Sending one, and what must hold after it ---------------------------------------------------


@dataclass
class Prepared:
    client: FlaskClient
    url: Any  # the URL, or a whole request built by hand
    kwargs: dict[str, Any]


def prepare(actors: Actors, plan: Plan) -> Prepared:
    """The request, with its live values filled in (which may fetch a CSRF token)."""
    actor = plan.actor if plan.actor != "api" else "nobody"
    client = actors.client(actor)
    headers = {}
    if plan.target.endpoint.startswith("api.") and plan.auth != "none":
        headers = bearer(actors.api_token() if plan.auth == "token" else "junk-token")
    body, content_type = fuzzing.render(plan, actors.resolver(actor, client))
    url = plan.path + ("?" + plan.query if plan.query else "")
    kwargs: dict[str, Any] = {"method": plan.target.method, "headers": headers}
    if content_type is not None:
        kwargs["content_type"] = content_type
    if plan.target.method == "GET":
        pass
    elif plan.corruption == "cut":  # the connection dropped: less arrives than was promised
        kwargs["input_stream"] = io.BytesIO(body[: int(len(body) * plan.cut)])
        kwargs["environ_overrides"] = {"CONTENT_LENGTH": str(len(body))}
    elif plan.corruption == "chunked":  # as a WSGI server passes a chunked body on
        kwargs["input_stream"] = io.BytesIO(body)
        kwargs["headers"] = {**headers, "Transfer-Encoding": "chunked"}
        request = EnvironBuilder(url, **kwargs).get_request()
        request.environ.pop("CONTENT_LENGTH", None)
        request.environ["wsgi.input_terminated"] = True
        return Prepared(client, request, {})
    else:
        kwargs["data"] = body
    return Prepared(client, url, kwargs)


def refused(response: TestResponse) -> bool:
    if response.status_code >= 400:
        return True
    location = urllib.parse.urlsplit(response.headers.get("Location", "")).path
    return response.status_code in (301, 302, 303) and location.endswith(REFUSAL_REDIRECTS)


def assert_readable(plan: Plan, response: TestResponse) -> None:
    if response.status_code < 400:
        return
    if plan.path.startswith("/api/"):
        assert response.is_json, response.text[:300]
        assert {"error", "message"} <= set(response.get_json())
    else:
        assert response.mimetype == "text/html", response.mimetype
        assert '<main id="main"' in response.text, response.text[:300]


def stored_state(app: Flask) -> Any:
    return snapshot(app, VOLATILE_TABLES)


def assert_no_stray_files(app: Flask) -> None:
    """Every blob on disk has its row (and each row its blob); nothing else was left. A file
    kept for a form that came back (a kept_upload row) is the session's, until the sweep."""
    store: BlobStore = app.extensions["blobs"]
    assert store.temporary_files() == []
    with app.app_context():
        rows = set(db.session().scalars(select(Blob.id)))
        rows |= set(db.session().scalars(select(KeptUpload.id)))
    on_disk = set(store.ids())
    assert on_disk == rows, f"blobs without rows {on_disk - rows}, without files {rows - on_disk}"
    settings_ = app.config["SETTINGS"]
    # The blobs are checked above, and the broker's queue holds task messages (ids only).
    skip = {store.root, settings_.broker_folder}
    stray = []
    for folder, subfolders, names in os.walk(settings_.instance_path):
        subfolders[:] = [d for d in subfolders if Path(folder, d) not in skip]
        stray += [
            name
            for name in names
            if name not in (SECRET_KEY_FILE, CODENAME_SALT_FILE)
            and not name.startswith(DATABASE_FILE)
        ]
    assert stray == []


def after_response(actors: Actors, plan: Plan, response: TestResponse) -> None:
    """Keep the actors usable: a renewed session needs a new CSRF token, an ended
    API token a new one, and the admin stays an admin."""
    if plan.target.endpoint.startswith(("admin.", "casework.")) and not refused(response):
        heal(actors.app, actors.fw.world.ada)
    actor = plan.actor
    if plan.target.method != "GET" and (
        response.status_code < 400 or CSRF_MESSAGE in response.get_data(as_text=True)
    ):
        actors.renew(actor)
    if plan.target.endpoint.startswith("api.") and response.status_code == 401:
        actors.fw.token = ""
    if plan.target.endpoint == "api.logout" and response.status_code == 200:
        actors.fw.token = ""


def _examples(database_url: str) -> int:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if "FUZZ_EXAMPLES" in os.environ:
        return int(os.environ["FUZZ_EXAMPLES"])
    return CI_EXAMPLES[backend]


@dataclass
class Tally:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    succeeded: dict[str, int] = field(default_factory=dict)
    by_target: dict[str, dict[int, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # in the app, by endpoint


@pytest.mark.slow
def test_every_route_is_a_target(fuzz_app: Flask) -> None:
    """A POST route no page shows a form for, or an API route missing from API_FIELDS,
    would go unfuzzed: name it here by adding its page or its fields."""
    fw = make_world(fuzz_app)
    found = {(t.endpoint, t.method) for t in targets(fuzz_app, Actors(fuzz_app, fw), fw.world.ids)}
    prefixes = ("reporter.", "casework.", "admin.", "api.")
    missing = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in routes(fuzz_app, prefixes)
        if (rule.endpoint, method) not in found
    ]
    assert not missing, "\n".join(missing)


@pytest.mark.slow
def test_no_request_gets_a_5xx_or_half_stores(fuzz_app: Flask, database_url: str) -> None:
    examples = _examples(database_url)
    if examples <= 0:
        pytest.skip("set FUZZ_EXAMPLES to fuzz this database (make fuzz)")
    fw = make_world(fuzz_app)
    actors = Actors(fuzz_app, fw)
    choices = tuple(weighted(targets(fuzz_app, actors, fw.world.ids)))
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(plans(choices))
    def one_request(plan: Plan) -> None:
        request = prepare(actors, plan)
        before = stored_state(fuzz_app)
        started = time.perf_counter()
        response = request.client.open(request.url, **request.kwargs)
        tally.seconds[plan.target.endpoint] = (
            tally.seconds.get(plan.target.endpoint, 0.0) + time.perf_counter() - started
        )
        response.close()  # a download's file is read already (the body is buffered)
        tally.sent += 1
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        seen = tally.by_target.setdefault(f"{plan.target.method} {plan.target.endpoint}", {})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        note = plan.describe()
        assert response.status_code < 500, note
        assert_readable(plan, response)
        if refused(response):
            after = stored_state(fuzz_app)
            assert after == before, f"refused with {response.status_code} but stored: {note}"
        else:
            key = f"{plan.target.method} {plan.target.endpoint}"
            tally.succeeded[key] = tally.succeeded.get(key, 0) + 1
        assert_no_stray_files(fuzz_app)
        after_response(actors, plan, response)

    one_request()
    print(f"\n{tally.sent} requests; statuses {sorted(tally.statuses.items())}")
    print(f"succeeded: {sorted(tally.succeeded.items())}")
    if os.environ.get("FUZZ_VERBOSE"):
        for key, statuses in sorted(tally.by_target.items()):
            print(f"  {key}: {sorted(statuses.items())}")
        slowest = sorted(tally.seconds.items(), key=lambda item: -item[1])[:12]
        print("  seconds in the app:", ", ".join(f"{k} {v:.1f}" for k, v in slowest))
