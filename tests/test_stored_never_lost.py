"""A report that was stored never looks lost: once it is committed the reporter sees the
codename, whatever fails afterwards, and every error page is ours and truthful about
whether anything was stored. Run on a PostgreSQL cluster the test starts, restarts and stops."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, request
from werkzeug.serving import make_server

from reporting import create_app, migrate
from reporting.serve import QuietRequestHandler
from tests.portal import add_caseworker, codename_from, come_back, submit_report
from tests.postgres_cluster import Cluster, own_cluster


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with own_cluster() as running:
        yield running


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
