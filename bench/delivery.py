"""Deliveries per second through the outbox and Celery, against direct signed POSTs.

Why this exists: every report's ciphertext reaches its NGO through the outbox (a Delivery
row written with the report), a Celery task that claims the row with a lease, a signed
webhook POST, and a second write that records the outcome. That bookkeeping is what makes
delivery survive outages, and it costs throughput. Our target: at least 100 deliveries/s
with 2 worker processes, judged on a backlog (the queue's capacity) and, as reports arrive,
by the workers keeping up with them; we show how far below the ceiling the queue keeps us.

How: one temp folder holds the instance (SQLite unless --database-url), the blobs, a private
`redis-server` on a free port (or, with --broker filesystem, kombu's filesystem transport),
and the local NGO receiver (`python -m receiver`, no faults). The workers are separate
processes, as in production: `python -m celery -A worker worker --pool threads
--concurrency 8 --without-gossip --without-mingle --loglevel WARNING`, 1 and then 2 of them,
plus one `celery -A worker beat` for the whole run, so the periodic sweep runs as it does in
production. While they run, this process stores N reports with `store_report` and queues
them with `send_deliveries`, as the report view does, from a few threads (concurrent
reporters). One webhook channel, no attachments: one delivery per report.

The codename's Argon2id is excluded: `reporting.intake.submissions.derive_keys` is replaced by a
cheap fake here (the upload benchmark measures it), so that reports are made as fast as this
process can store them.

Figures, as reports arrive (each queued right after it is stored): deliveries/s from the
first `send_deliveries` call to the poll of the Delivery table (every 50 ms) that finds them
all delivered; and for each delivery the time from its `send_deliveries` returning to the
receiver's `<webhook-id>.json` file being written (its mtime; same machine, same clock), p50
and p99. If the workers keep up, that rate is how fast this process stores reports, so a
second measurement shows the queue's own capacity: as many reports again, stored first and
then queued in one burst ("on a backlog"), with the CPU time per delivery of the workers and
the receiver. The reference, measured in the same run: the same number of signed POSTs of
the same blobs to the same receiver, sent directly from this process with 8 threads through
`worker.channels.webhook.post_ciphertext` (no Celery, no database): the ceiling that the
queue adds its overhead to.

    python bench/delivery.py [--reports 1000] [--broker redis|filesystem]
                             [--database-url URL] [--tmpdir DIR]

Progress goes to stderr, results to stdout. Processes and temp folders are removed on exit,
Ctrl-C included.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import REPO_ROOT, free_port, progress, require_project

require_project("celery", "reporting")

TARGET_PER_SECOND = 100.0  # with 2 worker processes
WORKER_COUNTS = (1, 2)
CONCURRENCY = 8  # threads per worker process, and threads of the reference
SUBMITTERS = 4  # threads storing reports in this process
WARMUP_REPORTS = 2 * CONCURRENCY  # per phase, before the measured ones; not counted
POLL_SECONDS = 0.05
PROGRESS_SECONDS = 2.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
ORGANISATION = "Benchmark organisation"
NARRATIVE = (
    "Benchmark report: generated to measure how fast ciphertext is delivered to an NGO's "
    "webhook through the outbox and the Celery workers. Not a real report. "
)
ALLOWED_NETWORKS = "127.0.0.0/8"


# --- processes -----------------------------------------------------------------------------


@dataclass
class Process:
    """A child process of ours, with its output in a log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, message: str) -> SystemExit:
        tail = self.log_tail()
        return SystemExit(f"{self.name}: {message}" + (f"\nits log:\n{tail}" if tail else ""))

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise self.fail(f"exited with {self.proc.returncode}")


def start_process(
    stack: ExitStack, name: str, cmd: Sequence[str], env: dict[str, str], work: Path
) -> Process:
    """Start `cmd` in `work`; it is stopped (by its pid) when `stack` closes."""
    log = work / f"{name.replace(' ', '-')}.log"
    with open(log, "ab") as log_file:
        proc = subprocess.Popen(
            cmd,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only us, and we stop the children in order.
            start_new_session=True,
        )
    process = Process(name, proc, log)
    stack.callback(stop_process, process)
    return process


def stop_process(process: Process) -> None:
    """SIGTERM (a Celery worker's warm shutdown), then SIGKILL if it lingers."""
    if process.proc.poll() is None:
        process.proc.terminate()
        try:
            process.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            progress(f"{process.name} did not stop in {STOP_TIMEOUT:.0f} s; killing it")
            process.proc.kill()
            process.proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until(what: Process, ready: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        what.check_alive()
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise what.fail(f"not ready after {timeout:.0f} s")


def start_redis(stack: ExitStack, work: Path) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found; install it, or use --broker filesystem")
    port = free_port()
    folder = work / "redis"
    folder.mkdir(mode=0o700)
    cmd = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(folder),
        "--daemonize", "no",
    ]  # fmt: skip
    redis = start_process(stack, "redis-server", cmd, dict(os.environ), work)

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_until(redis, pong)
    return f"redis://127.0.0.1:{port}/0"


@dataclass(frozen=True)
class Receiver:
    url: str
    secret: str
    store: Path
    pid: int


def start_receiver(stack: ExitStack, work: Path, env: dict[str, str]) -> Receiver:
    from crypto.webhooks import new_secret

    secret = new_secret()
    secret_file = work / "receiver-secret"
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    store = work / "received"
    port = free_port()
    cmd = [
        sys.executable, "-m", "receiver",
        "--store", str(store),
        "--secret-file", str(secret_file),
        "--port", str(port),
    ]  # fmt: skip
    receiver = start_process(stack, "receiver", cmd, env, work)

    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(receiver, listening)
    return Receiver(f"http://127.0.0.1:{port}/", secret, store, receiver.proc.pid)


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "worker", *args, "--loglevel", "WARNING"]


def start_workers(stack: ExitStack, count: int, env: dict[str, str], work: Path) -> list[Process]:
    tag = secrets.token_hex(3)
    workers = []
    for i in range(1, count + 1):
        cmd = celery_command(
            "worker",
            "--pool", "threads",
            "--concurrency", str(CONCURRENCY),
            "--without-gossip",
            "--without-mingle",
            "--hostname", f"bench-{tag}-{i}@%h",
        )  # fmt: skip
        workers.append(start_process(stack, f"worker {i} of {count}", cmd, env, work))
    return workers


# --- the service side ----------------------------------------------------------------------


@dataclass
class Service:
    """This process's view of the instance the workers serve: the Flask app and its parts."""

    app: Any
    organisation_id: str
    database_label: str
    broker_label: str


@dataclass(frozen=True)
class FakeIdentity:
    """One reply key for every report, its texts rendered once (a post-quantum key's Bech32
    takes milliseconds, and belongs to the codename's cost, which is excluded)."""

    text: str
    recipient: str

    def __str__(self) -> str:
        return self.text


def fake_derive_keys() -> Callable[..., Any]:
    """A stand-in for the codename's Argon2id (measured by bench/upload.py): a unique lookup
    id per report and one reply key for all, made once."""
    import crypto
    from crypto.codename import CodenameKeys

    real = crypto.generate_identity()
    identity = FakeIdentity(str(real), str(real.recipient))

    def derive_keys(codename: str, salt: bytes, *, post_quantum: bool = True) -> CodenameKeys:
        return CodenameKeys(secrets.token_hex(32), identity)  # type: ignore[arg-type]

    return derive_keys


def make_service(env: dict[str, str], receiver: Receiver) -> Service:
    import crypto
    from reporting import create_app
    from reporting.infra import db, migrate
    from reporting.infra.config import load_delivery
    from reporting.intake import submissions
    from reporting.models import ChannelKind, DeliveryChannel
    from reporting.organisations.recipients import add_recipient, create_organisation

    submissions.derive_keys = fake_derive_keys()  # type: ignore[attr-defined]
    database_url = env["REPORTING_DATABASE_URL"]
    app = create_app(
        {
            "INSTANCE_PATH": env["REPORTING_INSTANCE_PATH"],
            "DATABASE_URL": database_url,
            "REDIS_URL": env.get("REPORTING_REDIS_URL"),
            "DELIVERY": load_delivery(env),
        }
    )
    migrate.upgrade(database_url)
    caseworker = crypto.generate_identity()
    with app.app_context(), db.database().transaction() as session:
        organisation = create_organisation(session, f"{ORGANISATION} {secrets.token_hex(4)}")
        add_recipient(session, organisation, str(caseworker.recipient), "benchmark")
        session.add(
            DeliveryChannel(
                organisation=organisation,
                kind=ChannelKind.WEBHOOK,
                target=receiver.url,
                secret=receiver.secret,
            )
        )
        session.flush()
        organisation_id = organisation.id
    parts = urlsplit(database_url)
    if parts.scheme.startswith("sqlite"):
        database_label = "SQLite (a file in the temp instance)"
    else:
        where = f"{parts.hostname}:{parts.port or 5432}{parts.path}"
        schema = parts.query.partition("search_path%3D")[2] or "public"
        database_label = f"PostgreSQL ({where}, schema {schema})"
    broker_label = (
        "Redis (a private redis-server)"
        if env.get("REPORTING_REDIS_URL")
        else "filesystem (kombu's, in the instance)"
    )
    return Service(app, organisation_id, database_label, broker_label)


def state_counts(service: Service) -> dict[str, int]:
    from sqlalchemy import func, select

    from reporting.infra import db
    from reporting.models import Delivery

    with service.app.app_context(), db.database().transaction() as session:
        rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return {str(state): int(n) for state, n in rows}


@dataclass
class Submitted:
    """What this process knows of the reports it stored: when each delivery was queued."""

    queued_at: dict[str, float] = field(default_factory=dict)  # delivery id -> time.time()
    unqueued: list[list[str]] = field(default_factory=list)  # stored, not yet queued
    first_send: float | None = None
    last_send: float | None = None
    error: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, started: float, delivery_ids: Sequence[str], done: float) -> None:
        with self.lock:
            if self.first_send is None or started < self.first_send:
                self.first_send = started
            for delivery_id in delivery_ids:
                self.queued_at[delivery_id] = done
            self.last_send = max(done, self.last_send or done)


def send(delivery_ids: Sequence[str], submitted: Submitted) -> None:
    """`send_deliveries` as the view calls it, timed (in an app context)."""
    from reporting.infra.queue import send_deliveries

    started = time.time()
    if not send_deliveries(delivery_ids):
        raise RuntimeError("could not queue deliveries: is the broker up?")
    submitted.sent(started, delivery_ids, time.time())


def submit_reports(service: Service, count: int, submitted: Submitted, queue: bool) -> None:
    """Store `count` reports from SUBMITTERS threads and, if `queue`, queue each one's
    deliveries right after it is stored, as the report view does (else keep them)."""
    from reporting.infra import db
    from reporting.intake.submissions import store_report
    from reporting.models import Organisation
    from reporting.organisations.recipients import recipients_of

    app = service.app
    with app.app_context(), db.database().transaction() as session:
        organisation = session.get_one(Organisation, service.organisation_id)
        recipients = recipients_of(organisation)
    salt = app.config["SETTINGS"].codename_salt
    store = app.extensions["blobs"]
    fields = {"narrative": NARRATIVE, "consent": "none", "reply_language": "en"}

    def one(_: int) -> None:
        if STOP.is_set():
            return
        with app.app_context():
            receipt = store_report(
                db.database(), store, organisation, recipients, fields, [], salt, "en"
            )
            if queue:
                send(receipt.delivery_ids, submitted)
            else:
                with submitted.lock:
                    submitted.unqueued.append(receipt.delivery_ids)

    try:
        with ThreadPoolExecutor(SUBMITTERS) as pool:
            for _ in pool.map(one, range(count)):
                pass
    except BaseException as error:  # reported by the thread that polls
        if STOP.is_set():
            return  # on the way out, the broker may be gone already: not an error
        submitted.error = error
        raise


def queue_stored(service: Service, submitted: Submitted) -> None:
    """Queue every stored report's deliveries in one burst (SUBMITTERS threads)."""

    def one(delivery_ids: list[str]) -> None:
        if STOP.is_set():
            return
        with service.app.app_context():
            send(delivery_ids, submitted)

    try:
        with ThreadPoolExecutor(SUBMITTERS) as pool:
            for _ in pool.map(one, submitted.unqueued):
                pass
    except BaseException as error:
        if STOP.is_set():
            return
        submitted.error = error
        raise


STOP = threading.Event()  # set on the way out: threads still storing or queueing stop
_BACKGROUND: list[threading.Thread] = []


def background(target: Callable[..., None], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    _BACKGROUND.append(thread)
    thread.start()
    return thread


def stop_background() -> None:
    """Let threads that store or queue reports finish (say, after Ctrl-C) before their
    folders go; each stops at its next report."""
    STOP.set()
    for thread in _BACKGROUND:
        thread.join(timeout=STOP_TIMEOUT + 30)  # SQLite's busy timeout is 30 s


def check_submitted(submitted: Submitted) -> None:
    if submitted.error is not None:
        raise SystemExit(f"storing or queueing reports failed: {submitted.error!r}")


# --- one phase -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    """Reports stored and queued one by one, as reporters send them, while workers deliver."""

    deliveries: int
    seconds: float  # first send_deliveries -> the poll that saw the last one delivered
    submit_seconds: float  # first -> last send_deliveries returned
    latencies: list[float]  # send_deliveries returned -> stored at the receiver
    blob_paths: list[Path]
    blob_bytes: float  # the median size of the delivered age files

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds

    @property
    def submit_per_second(self) -> float:
        return self.deliveries / self.submit_seconds if self.submit_seconds else float("inf")


@dataclass(frozen=True)
class Backlog:
    """Reports stored first, then queued in one burst: what the workers can drain."""

    deliveries: int  # delivered after the burst began (a sweep may have sent some before)
    seconds: float  # first send_deliveries of the burst -> the poll that saw all delivered
    store_seconds: float  # storing the reports (not counted in `seconds`)
    worker_cpu: float  # CPU seconds of all worker processes while draining
    receiver_cpu: float

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds


@dataclass(frozen=True)
class Phase:
    workers: int
    live: Live
    backlog: Backlog


def wait_delivered(
    service: Service,
    expected: int,
    workers: Sequence[Process],
    label: str,
    deadline: float,
    submitted: Submitted,
) -> tuple[float, int]:
    """Poll the Delivery table until `expected` deliveries are delivered; the time it saw it."""
    next_report = time.monotonic() + PROGRESS_SECONDS
    while True:
        counts = state_counts(service)
        seen = time.time()
        delivered = counts.get("delivered", 0)
        if counts.get("dead", 0):
            raise SystemExit(f"{label}: {counts['dead']} deliveries are dead; see the logs")
        if delivered >= expected:
            return seen, delivered
        for worker in workers:
            worker.check_alive()
        check_submitted(submitted)
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: only {delivered} of {expected} delivered in time")
        if time.monotonic() >= next_report:
            next_report = time.monotonic() + PROGRESS_SECONDS
            progress(f"{label}: {counts}")
        time.sleep(POLL_SECONDS)


def delivered_count(service: Service) -> int:
    return state_counts(service).get("delivered", 0)


def deadline_for(reports: int) -> float:
    return time.monotonic() + max(120.0, reports / 2)


def measure_live(
    service: Service,
    receiver: Receiver,
    reports: int,
    workers: Sequence[Process],
    label: str,
) -> Live:
    from sqlalchemy import select

    from reporting.infra import db
    from reporting.models import Delivery

    progress(f"{label}: storing and queueing {reports} reports one by one")
    before = delivered_count(service)
    submitted = Submitted()
    submitter = background(submit_reports, service, reports, submitted, True)
    deadline = deadline_for(reports)
    last_seen, _ = wait_delivered(service, before + reports, workers, label, deadline, submitted)
    submitter.join()
    check_submitted(submitted)
    assert submitted.first_send is not None and submitted.last_send is not None

    with service.app.app_context(), db.database().transaction() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.idempotency_id, Delivery.blob_id).where(
                Delivery.id.in_(list(submitted.queued_at))
            )
        ).all()
    store = service.app.extensions["blobs"]
    latencies = [
        (receiver.store / f"{idem}.json").stat().st_mtime - submitted.queued_at[delivery_id]
        for delivery_id, idem, _ in rows
    ]
    live = Live(
        deliveries=len(rows),
        seconds=last_seen - submitted.first_send,
        submit_seconds=submitted.last_send - submitted.first_send,
        latencies=latencies,
        blob_paths=[store.path(blob_id) for _, _, blob_id in rows],
        blob_bytes=statistics.median(store.path(b).stat().st_size for _, _, b in rows),
    )
    progress(
        f"{label}: {live.per_second:.0f} deliveries/s as reports arrive "
        f"({live.submit_per_second:.0f} reports queued/s); submit->stored p50 "
        f"{percentile(latencies, 50):.3f} s, p99 {percentile(latencies, 99):.3f} s"
    )
    return live


def measure_backlog(
    service: Service, receiver: Receiver, reports: int, workers: Sequence[Process], label: str
) -> Backlog:
    progress(f"{label}: storing {reports} reports without queueing them")
    before = delivered_count(service)
    submitted = Submitted()
    started = time.perf_counter()
    submit_reports(service, reports, submitted, False)
    store_seconds = time.perf_counter() - started
    # The beat's sweep may have queued a few of them meanwhile: those are not counted.
    early = delivered_count(service) - before
    progress(f"{label}: queueing {reports} reports in one burst")
    pids = [w.proc.pid for w in workers]
    worker_cpu = sum(map(cpu_seconds, pids))
    receiver_cpu = cpu_seconds(receiver.pid)
    sender = background(queue_stored, service, submitted)
    last_seen, _ = wait_delivered(
        service, before + reports, workers, label, deadline_for(reports), submitted
    )
    sender.join()
    check_submitted(submitted)
    assert submitted.first_send is not None
    worker_cpu = sum(map(cpu_seconds, pids)) - worker_cpu
    receiver_cpu = cpu_seconds(receiver.pid) - receiver_cpu
    backlog = Backlog(
        reports - early,
        last_seen - submitted.first_send,
        store_seconds,
        worker_cpu,
        receiver_cpu,
    )
    progress(f"{label}: {backlog.per_second:.0f} deliveries/s on a backlog")
    return backlog


def run_phase(
    service: Service,
    receiver: Receiver,
    worker_count: int,
    reports: int,
    env: dict[str, str],
    work: Path,
) -> Phase:
    label = f"{worker_count} worker process{'es' if worker_count > 1 else ''}"
    with ExitStack() as stack:
        try:
            progress(f"{label}: starting")
            workers = start_workers(stack, worker_count, env, work)
            # Warm-up: every worker imported, connected and serving before the clock starts.
            before = delivered_count(service)
            warmup = Submitted()
            submit_reports(service, WARMUP_REPORTS * worker_count, warmup, True)
            deadline = time.monotonic() + START_TIMEOUT + 30
            expected = before + WARMUP_REPORTS * worker_count
            wait_delivered(service, expected, workers, f"{label} warm-up", deadline, warmup)
            live = measure_live(service, receiver, reports, workers, label)
            backlog = measure_backlog(service, receiver, reports, workers, label)
        except BaseException:
            STOP.set()  # before the workers and the broker go: no more reports
            raise
    return Phase(worker_count, live, backlog)


# --- the reference -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    deliveries: int
    seconds: float
    sender_cpu: float  # this process's CPU seconds
    receiver_cpu: float

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds


def run_reference(receiver: Receiver, blob_paths: Sequence[Path]) -> Reference:
    """The same blobs, signed and POSTed straight to the receiver from CONCURRENCY threads."""
    from protocol.headers import delivery_headers
    from worker.channels.webhook import WebhookPolicy, WebhookTarget, post_ciphertext

    policy = WebhookPolicy(allowed_networks=(ipaddress.ip_network(ALLOWED_NETWORKS),))
    target = WebhookTarget(receiver.url, receiver.secret)
    tag = secrets.token_hex(4)
    headers = delivery_headers(ORGANISATION, "0" * 32, "0" * 32, "report", 0)

    def one(item: tuple[int, Path]) -> bool:
        index, path = item
        outcome = post_ciphertext(target, f"ref_{tag}_{index}", path, headers, policy)
        return outcome.delivered

    progress(f"reference: {len(blob_paths)} direct POSTs from {CONCURRENCY} threads")
    started = time.perf_counter()
    own_cpu, receiver_cpu = time.process_time(), cpu_seconds(receiver.pid)
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(one, enumerate(blob_paths)))
    seconds = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    receiver_cpu = cpu_seconds(receiver.pid) - receiver_cpu
    if not all(results):
        raise SystemExit(f"reference: {results.count(False)} POSTs failed")
    reference = Reference(len(blob_paths), seconds, own_cpu, receiver_cpu)
    progress(f"reference: {reference.per_second:.0f} deliveries/s")
    return reference


# --- the report ----------------------------------------------------------------------------


def per_delivery(cpu_seconds: float, deliveries: int) -> str:
    return f"{cpu_seconds * 1000 / deliveries:.1f}" if deliveries else ""


def percentile(values: Sequence[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-align columns of figures so their digits line up; left-align words."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    figures = [any(r[i][:1].isdigit() for r in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if figure else c.ljust(w)
            for c, w, figure in zip(cells, widths, figures, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def report(phases: Sequence[Phase], reference: Reference) -> str:
    def ratio(per_second: float) -> str:
        return f"{per_second / reference.per_second:.2f}"

    rows = []
    for p in phases:
        name = f"{p.workers} worker process{'es' if p.workers > 1 else ''}"
        live, backlog = p.live, p.backlog
        rows.append(
            [
                f"queue, {name}, as reports arrive",
                f"{live.per_second:.1f}",
                ratio(live.per_second),
                f"{percentile(live.latencies, 50) * 1000:.0f}",
                f"{percentile(live.latencies, 99) * 1000:.0f}",
                f"{live.submit_per_second:.1f}",
                "",
                "",
            ]
        )
        rows.append(
            [f"queue, {name}, on a backlog", f"{backlog.per_second:.1f}", ratio(backlog.per_second)]
            + [""] * 3
            + [
                per_delivery(backlog.worker_cpu, backlog.deliveries),
                per_delivery(backlog.receiver_cpu, backlog.deliveries),
            ]
        )
    rows.append(
        [f"reference: direct POSTs, {CONCURRENCY} threads", f"{reference.per_second:.1f}", "1.00"]
        + [""] * 3
        + [
            per_delivery(reference.sender_cpu, reference.deliveries),
            per_delivery(reference.receiver_cpu, reference.deliveries),
        ]
    )
    headers = [
        "",
        "deliveries/s",
        "ours/reference",
        "p50 submit->stored, ms",
        "p99, ms",
        "reports queued/s",
        "sender CPU ms/delivery",
        "receiver CPU",
    ]
    two = next(p for p in phases if p.workers == 2)
    # The queue's capacity is the backlog rate; as reports arrive, deliveries cannot outpace
    # the reports this process stores, so there the test is that the workers keep up.
    kept_up = two.live.per_second >= 0.9 * two.live.submit_per_second
    ok = two.backlog.per_second >= TARGET_PER_SECOND and (
        kept_up or two.live.per_second >= TARGET_PER_SECOND
    )
    lines = [
        table(headers, rows),
        "",
        f">= {TARGET_PER_SECOND:.0f} deliveries/s with 2 processes: {'PASS' if ok else 'FAIL'} "
        f"({two.backlog.per_second:.1f} on a backlog, the queue's capacity; "
        f"{two.live.per_second:.1f} as reports arrive, "
        f"{'keeping up with' if kept_up else 'behind'} {two.live.submit_per_second:.1f} "
        "reports stored/s)",
    ]
    if kept_up:
        lines.append(
            "  as reports arrive, the workers kept up with this process storing reports "
            f"({two.live.submit_per_second:.1f}/s): that, not the queue, set the pace; "
            "the backlog figure is the queue's own capacity"
        )
    lines += [
        "",
        "as reports arrive: each report stored and its delivery queued right away "
        f"(store_report + send_deliveries, {SUBMITTERS} threads), deliveries/s from the first "
        f"send_deliveries call to the poll (every {POLL_SECONDS * 1000:.0f} ms) of the "
        "Delivery table that found all delivered; submit->stored: send_deliveries returned "
        "-> the receiver's <webhook-id>.json written; reports queued/s: how fast this process "
        "stored and queued them.",
        "on a backlog: the same number of reports stored first, then queued in one burst; "
        "deliveries/s from the first send_deliveries call of the burst to the poll that found "
        "all delivered.",
        "CPU ms/delivery: user + system time (/proc) while draining, of the senders (all "
        "worker processes; for the reference, this process) and of the receiver, over the "
        f"deliveries; the machine has {os.cpu_count()} CPUs for all of them, the broker and "
        "the database.",
    ]
    return "\n".join(lines)


def environment() -> str:
    from importlib.metadata import version

    return (
        f"python {platform.python_version()}, celery {version('celery')}, "
        f"kombu {version('kombu')}, sqlalchemy {version('sqlalchemy')}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )


def load_average() -> str:
    """Other work on the machine shares its CPUs with the workers: say how much there was."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --- main ----------------------------------------------------------------------------------


def service_env(work: Path, database_url: str | None, redis_url: str | None) -> dict[str, str]:
    """The environment of the workers, the beat and the receiver (and this process's app):
    ours, without any REPORTING_* setting of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTING_")}
    instance = work / "instance"
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        REPORTING_INSTANCE_PATH=str(instance),
        REPORTING_DATABASE_URL=database_url or f"sqlite:///{instance / 'reporting.sqlite3'}",
        REPORTING_WEBHOOK_ALLOWED_NETWORKS=ALLOWED_NETWORKS,
    )
    if redis_url:
        env["REPORTING_REDIS_URL"] = redis_url
    return env


@contextmanager
def temp_work(tmpdir: str | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(
        prefix="delivery-bench-", dir=tmpdir, ignore_cleanup_errors=True
    ) as folder:
        yield Path(folder)


def run_benchmark(args: argparse.Namespace) -> None:
    load_before = load_average()
    with ExitStack() as stack:
        work = stack.enter_context(temp_work(args.tmpdir))
        # Runs after the processes are stopped, before the folder is removed.
        stack.callback(stop_background)
        (work / "instance").mkdir(mode=0o700)
        redis_url = None
        if args.broker == "redis":
            progress("starting a private redis-server")
            redis_url = start_redis(stack, work)
        env = service_env(work, args.database_url, redis_url)
        progress("starting the receiver")
        receiver = start_receiver(stack, work, env)
        progress("preparing the instance")
        service = make_service(env, receiver)
        # Settled before the workers start: the secret key and codename salt files exist.
        progress("starting celery beat")
        beat = start_process(stack, "beat", celery_command("beat"), env, work)
        phases = []
        for count in WORKER_COUNTS:
            beat.check_alive()
            phases.append(run_phase(service, receiver, count, args.reports, env, work))
        reference = run_reference(receiver, phases[-1].live.blob_paths)
        beat.check_alive()
        service.app.extensions["db"].engine.dispose()
        load_after = load_average()
        progress("done; stopping processes and removing temp folders")

    settings = service.app.config["SETTINGS"].delivery
    print(f"delivery: the outbox and Celery workers vs direct signed POSTs: {environment()}")
    print(
        f"{args.reports} reports per phase, one webhook delivery each (a padded age file of "
        f"{phases[-1].live.blob_bytes / 1024:.1f} KiB) to the local receiver "
        "(python -m receiver, no faults)"
    )
    print(f"database: {service.database_label}; broker: {service.broker_label}")
    print(
        f"workers: celery --pool threads --concurrency {CONCURRENCY}, 1 then 2 processes, "
        f"plus one celery beat (sweep every {settings.sweep_interval_seconds} s)"
    )
    print(
        "codename derivation excluded: reporting.intake.submissions.derive_keys is a cheap fake "
        "here; the codename's Argon2id is measured by bench/upload.py"
    )
    print(f"load average (1, 5, 15 min): {load_before} before the run, {load_after} at its end")
    print()
    print(report(phases, reference))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000, help="reports per phase")
    parser.add_argument(
        "--broker",
        choices=["redis", "filesystem"],
        default="redis",
        help="a private redis-server (default), or kombu's filesystem transport",
    )
    parser.add_argument(
        "--database-url",
        help="e.g. postgresql+psycopg://127.0.0.1:5432/test?options=-csearch_path%%3Dbench "
        "(a fresh schema); default: SQLite in the temp instance",
    )
    parser.add_argument("--tmpdir", help="where the temp folder goes (default: /tmp)")
    args = parser.parse_args(argv)
    if args.reports < 1:
        parser.error("--reports must be at least 1")
    return args


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so processes are stopped and temp folders removed.
    STOP.set()
    raise SystemExit(128 + signum)


def _interrupt(signum: int, frame: object) -> None:
    STOP.set()  # threads storing reports stop at once, not after the broker is gone
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    try:
        run_benchmark(args)
    except KeyboardInterrupt:
        progress("interrupted; processes stopped and temp folders removed")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
