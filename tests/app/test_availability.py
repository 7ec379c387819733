"""One client cannot deny service to others; derivations are bounded and never block pages.

Issue 11 §2: a single anonymous session used to spend instance-wide hourly budgets and lock
every reporter out, and page views queued behind codename derivations.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import crypto
from reporting import create_app
from reporting.infra.config import Limits
from reporting.intake import derivations
from reporting.intake.derivations import DERIVATION_NICENESS, DerivationBusy, DerivationPool
from tests.support import databases
from tests.support.portal import add_caseworker, codename_from, come_back, file_part, submit_report
from tests.support.refusals import assert_error_page, assert_nothing_more_stored, stored_state

SALT = b"s" * 16
BUSY = "The service is very busy right now. Nothing was stored. Please try again in a minute."


class Gate:
    """Real derivations that wait at a gate the test opens, and a count of how many ran."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0
        self.niceness: list[int] = []

    def derive(self, codename: str, salt: bytes) -> crypto.CodenameKeys:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        self.entered.release()
        try:
            assert self.open.wait(timeout=60)
            return crypto.derive_keys(codename, salt)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def gate() -> Iterator[Gate]:
    found = Gate()
    yield found
    found.open.set()


def gated_app(
    tmp_path: Path, database_url: str, gate: Gate, *, size: int = 1, waiting: int = 0, **limits: Any
) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "DATABASE_URL": database_url,
            "LIMITS": Limits(**limits),
        }
    )
    databases.migrate_fresh(database_url)
    add_caseworker(app)
    app.extensions[derivations.EXTENSION].close()
    app.extensions[derivations.EXTENSION] = DerivationPool(
        size, waiting=waiting, wait_seconds=0.2, derive=gate.derive
    )
    return app


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    return thread, result


# --- The derivation pool ------------------------------------------------------------------------


def test_pool_runs_at_most_its_size_and_refuses_the_rest_at_once(gate: Gate) -> None:
    pool = DerivationPool(2, waiting=0, wait_seconds=30, derive=gate.derive)
    codename = crypto.generate_codename()
    started = [in_thread(lambda: pool.derive(codename, SALT)) for _ in range(2)]
    for _ in range(2):
        assert gate.entered.acquire(timeout=30)
    # No waiting place: refused at once, although the wait allowed is long.
    with pytest.raises(DerivationBusy):
        pool.derive(codename, SALT)
    gate.open.set()
    for thread, _ in started:
        thread.join(timeout=60)
    assert gate.peak == 2
    expected = crypto.derive_keys(codename, SALT).lookup_id
    assert [result[0].lookup_id for _, result in started] == [expected, expected]
    pool.close()


@pytest.mark.slow
def test_a_waiting_request_waits_a_bounded_time(gate: Gate) -> None:
    pool = DerivationPool(1, waiting=1, wait_seconds=0.2, derive=gate.derive)
    codename = crypto.generate_codename()
    thread, result = in_thread(lambda: pool.derive(codename, SALT))
    assert gate.entered.acquire(timeout=30)
    with pytest.raises(DerivationBusy):
        pool.derive(codename, SALT)
    gate.open.set()
    thread.join(timeout=60)
    assert result[0].lookup_id == crypto.derive_keys(codename, SALT).lookup_id
    assert gate.calls == 1
    pool.close()


def test_derivations_run_nicer_than_the_threads_that_serve_pages(gate: Gate) -> None:
    pool = DerivationPool(1, waiting=0, wait_seconds=1, derive=gate.derive)
    gate.open.set()
    pool.derive(crypto.generate_codename(), SALT)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert gate.niceness == [min(19, mine + DERIVATION_NICENESS)]
    pool.close()


@pytest.mark.slow
def test_many_threads_never_hold_more_derivations_than_the_pool(gate: Gate) -> None:
    pool = DerivationPool(2, waiting=30, wait_seconds=60, derive=gate.derive)
    gate.open.set()
    codename = crypto.generate_codename()
    threads = [in_thread(lambda: pool.derive(codename, SALT)) for _ in range(12)]
    for thread, _ in threads:
        thread.join(timeout=120)
    assert gate.calls == 12
    assert gate.peak <= 2
    pool.close()


# --- Through the reporter pages -----------------------------------------------------------------


@pytest.mark.slow
def test_full_pool_gives_a_readable_busy_page_and_stores_nothing(
    tmp_path: Path, database_url: str, gate: Gate
) -> None:
    app = gated_app(tmp_path, database_url, gate)
    first = app.test_client()
    thread, result = in_thread(lambda: submit_report(first))
    assert gate.entered.acquire(timeout=30)

    # While the only slot derives, pages answer at once (they never enter the pool) ...
    other = app.test_client()
    assert other.get("/report").status_code == 200
    assert other.get("/return").status_code == 200
    before = stored_state(app)
    # ... and a second submission is refused with a page that says nothing was stored.
    busy = submit_report(other)
    assert_error_page(busy, 503, BUSY)
    assert busy.headers["Retry-After"] == "60"
    assert_nothing_more_stored(app, before)
    # A codename attempt is refused the same way.
    refused = come_back(app.test_client(), crypto.generate_codename())
    assert_error_page(refused, 503, BUSY)

    gate.open.set()
    thread.join(timeout=60)
    assert result[0].status_code == 200
    codename = codename_from(result[0])
    # Once the slot is free, the refused reporter gets through.
    assert come_back(app.test_client(), codename).status_code == 302


def test_a_request_waiting_for_its_derivation_holds_no_database_connection(
    tmp_path: Path, database_url: str, gate: Gate
) -> None:
    """Else 22 waiting reporters used up a web process's connection pool and got 500s."""
    app = gated_app(tmp_path, database_url, gate)
    thread, result = in_thread(
        lambda: submit_report(app.test_client(), attachments=file_part(b"f" * 100_000))
    )
    assert gate.entered.acquire(timeout=30)
    assert app.extensions["db"].engine.pool.checkedout() == 0
    gate.open.set()
    thread.join(timeout=60)
    assert result[0].status_code == 200


def test_busy_page_is_translated(tmp_path: Path, database_url: str, gate: Gate) -> None:
    app = gated_app(tmp_path, database_url, gate)
    thread, _ = in_thread(lambda: submit_report(app.test_client()))
    assert gate.entered.acquire(timeout=30)
    client = app.test_client()
    client.get("/language/zh_Hans")
    busy = submit_report(client)
    assert busy.status_code == 503
    assert BUSY not in busy.text
    assert "本服务现在非常繁忙" in busy.text
    gate.open.set()
    thread.join(timeout=60)


# --- Abuse limits per session -------------------------------------------------------------------


def _attempt(client: FlaskClient, codename: str) -> int:
    return come_back(client, codename).status_code


@pytest.mark.slow
def test_codename_flood_from_one_session_does_not_lock_out_others(
    tmp_path: Path, database_url: str, gate: Gate
) -> None:
    app = gated_app(
        tmp_path, database_url, gate, size=2, waiting=4, codename_attempts_per_session=3
    )
    gate.open.set()
    reporter = app.test_client()
    codename = codename_from(submit_report(reporter))

    flooder = app.test_client()
    statuses = [_attempt(flooder, crypto.generate_codename()) for _ in range(6)]
    assert statuses == [403, 403, 403, 429, 429, 429]

    assert _attempt(app.test_client(), codename) == 302


@pytest.mark.slow
def test_malformed_codenames_cost_nothing_and_count_against_no_one(
    tmp_path: Path, database_url: str, gate: Gate
) -> None:
    app = gated_app(
        tmp_path, database_url, gate, size=2, waiting=4, codename_attempts_per_session=2
    )
    gate.open.set()
    codename = codename_from(submit_report(app.test_client()))
    derived = gate.calls

    flooder = app.test_client()
    for typed in ["x", "", "apple banana cherry", "a" * 400, codename + " extra"] * 20:
        assert _attempt(flooder, typed) == 400
    assert gate.calls == derived
    # Not even the flooding session's own budget was spent by them.
    assert _attempt(flooder, codename) == 302


@pytest.mark.slow
def test_session_limits_recover_within_their_window(
    tmp_path: Path, database_url: str, gate: Gate
) -> None:
    app = gated_app(
        tmp_path, database_url, gate, size=2, waiting=4, codename_attempts_per_session=1,
        rate_window_seconds=1,
    )  # fmt: skip
    gate.open.set()
    client = app.test_client()
    assert _attempt(client, crypto.generate_codename()) == 403
    assert _attempt(client, crypto.generate_codename()) == 429
    time.sleep(1.5)
    assert _attempt(client, crypto.generate_codename()) == 403


def test_default_limits_recover_within_a_minute_and_have_no_instance_budget() -> None:
    limits = Limits()
    assert limits.rate_window_seconds <= 60
    assert not any("instance" in name for name in vars(limits))
