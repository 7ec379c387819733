"""A report that was stored never looks lost: once it is committed the reporter sees the
codename, whatever fails afterwards, and every error page is ours and truthful about
whether anything was stored. Run on a PostgreSQL cluster the test starts, restarts and stops."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask, Response, request
from sqlalchemy import create_engine, func, select, text
from werkzeug.serving import make_server

import crypto
from protocol.padding import pad
from reporting import create_app
from reporting.infra import db, migrate
from reporting.infra.db import CommitUncertain
from reporting.models import Report
from reporting.web.serve import QuietRequestHandler
from tests.support.portal import (
    add_caseworker,
    codename_from,
    come_back,
    multipart,
    report_fields,
    submit_report,
)
from tests.support.postgres_cluster import Cluster, own_cluster
from tests.support.processes import ROOT, Processes, clean_environ, free_port


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with own_cluster() as running:
        yield running


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Processes of this test's own (the shared fixture would also want the shared server)."""
    running = Processes(tmp_path / "logs")
    try:
        yield running
    finally:
        running.stop_all()
        print(running.tails())  # shown only when the test fails


@pytest.fixture
def pg_app(tmp_path: Path, cluster: Cluster) -> Flask:
    migrate.upgrade(cluster.url)
    config = {"TESTING": True, "INSTANCE_PATH": tmp_path / "instance", "DATABASE_URL": cluster.url}
    # As in production: an unexpected exception is answered by our handlers, not re-raised.
    app = create_app({**config, "PROPAGATE_EXCEPTIONS": False})
    add_caseworker(app)
    return app


def _after_report(app: Flask, action: object) -> None:
    """Run `action` once the report view has returned its page (so after the commit) and
    before the request's teardown closes its database session."""

    @app.after_request
    def after(response: Response) -> Response:
        if request.method == "POST" and request.path == "/report":
            action()  # type: ignore[operator]
        return response


def test_a_database_restart_after_the_commit_still_shows_the_codename(
    pg_app: Flask, cluster: Cluster
) -> None:
    _after_report(pg_app, cluster.restart_immediately)
    client = pg_app.test_client()

    page = submit_report(client)

    assert page.status_code == 200
    codename = codename_from(page)
    # The report was stored: its codename opens it (on the restarted database).
    fresh = pg_app.test_client()
    assert come_back(fresh, codename).status_code == 302


def test_a_database_that_is_down_gets_our_page_saying_nothing_was_stored(
    pg_app: Flask, cluster: Cluster
) -> None:
    client = pg_app.test_client()
    assert client.get("/report").status_code == 200
    cluster.stop()

    page = submit_report(client)

    assert page.status_code == 503
    assert "Nothing was stored" in page.text
    assert '<html lang="en"' in page.text  # our page, in the reporter's language


def test_a_failure_after_the_commit_says_the_report_was_stored(pg_app: Flask) -> None:
    def fail() -> None:
        raise RuntimeError("something after the commit broke")

    _after_report(pg_app, fail)
    client = pg_app.test_client()

    page = submit_report(client)

    assert page.status_code == 500
    assert "Nothing was stored" not in page.text
    assert "was stored" in page.text
    # Still truthful and useful: the codename it was stored under is on the page.
    codename = codename_from(page)
    assert come_back(pg_app.test_client(), codename).status_code == 302


def test_an_exception_that_escapes_every_handler_gets_our_page_not_the_servers(
    pg_app: Flask,
) -> None:
    @pg_app.teardown_request
    def broken(_error: BaseException | None) -> None:
        raise RuntimeError("a teardown that fails")

    # A real server (the development one): the test client re-raises instead of answering.
    server = make_server("127.0.0.1", 0, pg_app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=30)
    finally:
        server.shutdown()
        thread.join()

    page = caught.value
    text = page.read().decode()
    assert page.code == 500
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "we cannot tell from here whether what you sent was stored" in text
    assert '<section lang="zh-Hans"' in text and "代号" in text  # translated, not just marked
    assert '<section lang="zh-Hant"' in text and "代號" in text


# --- Under gunicorn, with reporters submitting while PostgreSQL restarts ---------------------

GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
REPORTERS = 6
OUR_PAGE = '<main id="main"'  # every page of ours, error pages and the last resort included


def one_reporter(base: str) -> tuple[int, str]:
    """Fetch the form and send one report, as a browser would (cookie and CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{base}/report", timeout=120) as form:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.read().decode())
    assert token, "no CSRF token on the form"
    body, content_type = multipart({"csrf_token": token.group(1), **report_fields()})
    request = urllib.request.Request(
        f"{base}/report", data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with opener.open(request, timeout=120) as page:
            return page.status, page.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_reporters_under_gunicorn_never_see_a_bare_error_while_postgresql_restarts(
    pg_app: Flask, cluster: Cluster, processes: Processes, tmp_path: Path
) -> None:
    port = free_port()
    env = clean_environ(
        REPORTING_INSTANCE_PATH=str(tmp_path / "instance"), REPORTING_DATABASE_URL=cluster.url
    )
    command = [
        "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "-b", f"127.0.0.1:{port}",
        "--workers", "1", "reporting:create_app()",
    ]  # fmt: skip
    processes.python("gunicorn", command, env).wait_for_port(port)
    base = f"http://127.0.0.1:{port}"
    answers: list[tuple[int, str]] = []
    with ThreadPoolExecutor(REPORTERS) as pool:
        before = [pool.submit(one_reporter, base) for _ in range(REPORTERS * 2)]
        answers += [f.result() for f in before[:REPORTERS]]  # the rest are in flight now
        cluster.restart_immediately()
        after = [pool.submit(one_reporter, base) for _ in range(REPORTERS)]
        answers += [f.result() for f in (*before[REPORTERS:], *after)]

    codenames = []
    for status, body in answers:
        assert OUR_PAGE in body, (status, body[:500])  # never gunicorn's bare page
        if status == 200:
            codenames.append(codename_from_text(body))
        else:
            assert status in (500, 503), (status, body[:500])
    assert codenames, "no report got through at all"
    # Every codename shown opens a stored report, and a page that said nothing was stored
    # told the truth: only pages that said "we cannot tell" may stand for more reports.
    for codename in codenames:
        assert come_back(pg_app.test_client(), codename).status_code == 302
    uncertain = sum(1 for _, body in answers if "We cannot tell" in body)
    with pg_app.app_context():
        stored = db.session().scalar(select(func.count()).select_from(Report))
    assert len(codenames) <= stored <= len(codenames) + uncertain


def codename_from_text(text: str) -> str:
    match = re.search(r'id="codename"[^>]*>\s*([^<]+?)\s*<', text)
    assert match, "a 200 without a codename"
    return match.group(1)


def test_a_connection_lost_during_the_commit_says_we_cannot_tell(
    pg_app: Flask, cluster: Cluster
) -> None:
    """The commit itself fails with the connection: the database may have stored the report or
    not, so the page says exactly that, with the codename to find out."""
    drop_connection_at_commit(cluster, "report")

    page = submit_report(pg_app.test_client())

    assert page.status_code == 503
    assert "We cannot tell whether it was stored" in page.text
    assert "Nothing was stored" not in page.text
    codename = codename_from(page)
    # Here it was not stored (the trigger ran before the commit), as the page allowed for:
    # the codename opens nothing, and the page told the reporter to send it again then.
    assert come_back(pg_app.test_client(), codename).status_code == 403


def test_a_reply_whose_commit_is_cut_off_keeps_its_file(pg_app: Flask, cluster: Cluster) -> None:
    """The caseworker side too: a lost commit is 'uncertain', and the blob a stored row may
    point at is not deleted."""
    from reporting.casework.messages import store_client_message
    from reporting.models import Caseworker, MessageKind
    from tests.support.casework import make_account

    page = submit_report(pg_app.test_client())
    assert page.status_code == 200
    account = make_account(pg_app, organisation_name="Test organisation")
    drop_connection_at_commit(cluster, "message")
    store = pg_app.extensions["blobs"]
    before = set(store.ids())
    ciphertext = crypto.encrypt(pad(b"{}", b" "), [account.identity.recipient], armor=True)

    with pg_app.app_context(), pytest.raises(CommitUncertain):
        session = db.session()
        report = session.scalars(select(Report)).one()
        actor = session.get_one(Caseworker, account.id)
        store_client_message(db.database(), store, actor, report, MessageKind.REPLY, ciphertext)

    assert len(set(store.ids()) - before) == 1  # kept, for the row that may exist


def drop_connection_at_commit(cluster: Cluster, table: str) -> None:
    """At COMMIT (a deferred trigger runs then) of an insert into `table`, the database drops
    the connection: the client cannot know whether the commit happened."""
    engine = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(
            text(
                "CREATE OR REPLACE FUNCTION drop_at_commit() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$"
            )
        )
        connection.execute(
            text(
                f"CREATE CONSTRAINT TRIGGER drop_at_commit AFTER INSERT ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION drop_at_commit()"
            )
        )
    engine.dispose()
