"""Reports per second through the real portal, against the machine's Argon2id bound.

Why this exists: each report costs one codename derivation (Argon2id, 64 MiB), and that is
what the service should be limited by, not by budgets, queues or threads. Under load, a page
view must stay quick, a web process's memory must stay bounded by its derivation pool, and
slow clients must not keep honest reporters out (issue 11 §2). Nothing that got a success
page may be lost or delivered twice.

How: one temp folder holds the instance; PostgreSQL is a fresh schema (dropped at the end)
at --postgres-url; a private `redis-server` on a free port; the NGO receiver (`python -m
receiver`); one Celery worker and the beat; and gunicorn with the shipped
deploy/gunicorn.conf.py (WEB_CONCURRENCY processes, default 2). Reporters are threads of
this process that do what Tor Browser does, each journey in a fresh session: GET /report,
POST the form (multipart, with its CSRF token), read the codename page.

Measured, in order, in the same run:
- the Argon2id bound: codename derivations per second in this process, with as many threads
  as cores (crypto.derive_keys, the function the portal runs);
- idle page GET latency (GET /report, one at a time);
- closed-loop reporters at N = 1, 8 and 32 (each starts its next journey when one ends):
  reports/s over the last two thirds of each phase (the first fills the pipeline); the
  best is the capacity. At N = 32 a prober GETs /report one at a time (page
  GET latency under saturation) and the web processes' RSS is sampled every 100 ms;
- an open loop: journeys started at random (Poisson) times at 80% of the capacity;
- 200 slow connections (half trickling a request head, half a POST body, one byte every
  2 s, reopened when the server closes them) while honest reporters make journeys one
  at a time, against the N = 1 journeys' latency;
- after every phase: each report that got a success page is found by its codename exactly
  once in the database, its one delivery is delivered, and the receiver holds it; the
  database holds no report that got no success page.

    python bench/submit.py [--quick] [--postgres-url URL] [--tmpdir DIR]

`--quick` is a smoke run of a few seconds per phase (tests/processes/test_bench_submit.py runs it);
its figures are too short to judge by. Progress goes to stderr, results to stdout; the last
line is the verdict. Processes, the schema and temp folders are removed on exit.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, free_port, progress, require_project

require_project("gunicorn", "reporting", "sqlalchemy")

from delivery import (  # noqa: E402  (after require_project, which may re-exec us)
    Process,
    celery_command,
    make_service,
    percentile,
    service_env,
    start_process,
    start_receiver,
    start_redis,
    start_workers,
    table,
    temp_work,
    wait_until,
)

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
GUNICORN_CONFIG = REPO_ROOT / "deploy" / "gunicorn.conf.py"
CLOSED_LOOP = (1, 8, 32)
SATURATED = 32
OPEN_LOOP_SHARE = 0.8
SLOW_CONNECTIONS = 200
REQUEST_TIMEOUT = 120.0
MIB = 1024 * 1024
ARGON2_MIB = 64
TARGET_CAPACITY_RATIO = 0.9
TARGET_GET_RATIO = 5.0
TARGET_SLOW_P95_RATIO = 3.0
NARRATIVE = (
    "Benchmark report: generated to measure how many reports per second the portal takes "
    "through gunicorn, with a codename derivation each. Not a real report."
)


@dataclass(frozen=True)
class Sizes:
    """How long each phase runs: the full run, or a smoke run that only shows it works."""

    bound_seconds: float
    idle_gets: int
    phase_seconds: float
    slow_journeys: int


FULL = Sizes(bound_seconds=20, idle_gets=200, phase_seconds=45, slow_journeys=40)
QUICK = Sizes(bound_seconds=2, idle_gets=20, phase_seconds=6, slow_journeys=3)


# --- one reporter --------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    status: str  # "200", "503", "timeout", ...
    seconds: float
    codename: str | None = None
    ended: float = field(default_factory=time.monotonic)


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = f"bench-{secrets.token_hex(12)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return body.encode(), f"multipart/form-data; boundary={boundary}"


def journey(base: str) -> Outcome:
    """A fresh session: the form, then the report; a success is the codename page."""
    started = time.monotonic()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    try:
        with opener.open(f"{base}/report", timeout=REQUEST_TIMEOUT) as response:
            form = response.read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        if token is None:
            return Outcome(False, "no-form", time.monotonic() - started)
        fields = {
            "csrf_token": token.group(1),
            "narrative": NARRATIVE,
            "consent": "none",
            "reply_language": "en",
        }
        body, content_type = _multipart(fields)
        request = urllib.request.Request(
            f"{base}/report", data=body, headers={"Content-Type": content_type}, method="POST"
        )
        with opener.open(request, timeout=REQUEST_TIMEOUT) as response:
            page = response.read().decode()
    except urllib.error.HTTPError as error:
        return Outcome(False, str(error.code), time.monotonic() - started)
    except OSError as error:
        return Outcome(False, type(error).__name__, time.monotonic() - started)
    codename = re.search(r'id="codename"[^>]*>\s*([^<]+?)\s*<', page)
    if codename is None:
        return Outcome(False, "no-codename", time.monotonic() - started)
    return Outcome(True, "200", time.monotonic() - started, codename.group(1))


def page_get(base: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}/report", timeout=REQUEST_TIMEOUT) as response:
        response.read()
    return time.monotonic() - started


# --- phases --------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    @property
    def succeeded(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    # The steady state over which reports/s is counted (a closed loop's ramp-up and the
    # journeys still finishing after its end are left out); None: the whole phase.
    window: tuple[float, float] | None = None

    @property
    def per_second(self) -> float:
        if self.window is None:
            return len(self.succeeded) / self.seconds if self.seconds else 0.0
        start, end = self.window
        done = [o for o in self.succeeded if start <= o.ended <= end]
        return len(done) / (end - start)

    @property
    def success_rate(self) -> float:
        return len(self.succeeded) / len(self.outcomes) if self.outcomes else 0.0

    def p95(self) -> float:
        return percentile([o.seconds for o in self.succeeded], 95)

    def refusals(self) -> str:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            if not o.ok:
                counts[o.status] = counts.get(o.status, 0) + 1
        return ", ".join(f"{n} x {status}" for status, n in sorted(counts.items())) or "none"


def closed_loop(base: str, reporters: int, seconds: float) -> Phase:
    """`reporters` threads, each starting its next journey as soon as one ends; reports/s
    are counted over the last two thirds (the first third fills the pipeline)."""
    phase = Phase(f"closed loop, N = {reporters}", seconds)
    stop_at = time.monotonic() + seconds
    phase.window = (stop_at - seconds * 2 / 3, stop_at)

    def reporter() -> None:
        while time.monotonic() < stop_at:
            phase.add(journey(base))

    threads = [threading.Thread(target=reporter, daemon=True) for _ in range(reporters)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Journeys that began before the end finish after it: count the time they took.
    phase.seconds = time.monotonic() - started
    return phase


def open_loop(base: str, per_second: float, seconds: float) -> Phase:
    """Journeys started at random (Poisson) times, whether or not earlier ones finished."""
    phase = Phase(f"open loop, {per_second:.2f} arrivals/s", seconds)
    rng = random.Random(7)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=256) as pool:
        at = started
        while True:
            at += rng.expovariate(per_second)
            if at - started > seconds:
                break
            time.sleep(max(0.0, at - time.monotonic()))
            pool.submit(lambda: phase.add(journey(base)))
    phase.seconds = time.monotonic() - started
    return phase


class Prober:
    """Page GETs one at a time while a phase runs: how long a reader waits for a page."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seconds.append(page_get(self.base))
            self._stop.wait(0.05)

    @contextmanager
    def running(self) -> Iterator[Prober]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


class RssSampler:
    """Peak VmRSS of each gunicorn worker process, sampled every 100 ms."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.master}/task/{self.master}/children")
        return [int(pid) for pid in path.read_text().split()]

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, rss in rss_of(self.workers()).items():
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            self._stop.wait(0.1)

    @contextmanager
    def running(self) -> Iterator[RssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def rss_of(pids: Sequence[int]) -> dict[int, int]:
    found = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if match:
            found[pid] = int(match.group(1)) * 1024
    return found


class SlowCrowd:
    """`count` connections trickling one byte every 2 s, half in a request head and half in
    a POST body; each one the server closes is opened again, so `count` stay open."""

    HEAD = b"GET /report HTTP/1.1\r\nHost: bench\r\n"
    BODY = (
        b"POST /report HTTP/1.1\r\nHost: bench\r\nContent-Type: multipart/form-data; "
        b"boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n"
    )

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.openings = [self.HEAD if i % 2 else self.BODY for i in range(count)]
        self.sockets: list[socket.socket | None] = [None] * count
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, index: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(self.openings[index])
            sock.setblocking(False)
        except OSError:
            return
        self.sockets[index] = sock

    def _poke(self, index: int) -> None:
        sock = self.sockets[index]
        if sock is None:
            self._open(index)
            return
        try:
            if sock.recv(4096) == b"":
                raise ConnectionResetError
        except BlockingIOError:
            pass
        except OSError:
            sock.close()
            self.sockets[index] = None
            self.reopened += 1
            self._open(index)
            return
        with suppress(OSError):
            sock.send(b"x")

    def _run(self) -> None:
        while not self._stop.is_set():
            for index in range(len(self.sockets)):
                self._poke(index)
            self._stop.wait(2)

    @contextmanager
    def running(self) -> Iterator[SlowCrowd]:
        for index in range(len(self.sockets)):
            self._open(index)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            for sock in self.sockets:
                if sock is not None:
                    sock.close()


def argon2_bound(seconds: float, threads: int) -> float:
    """Codename derivations per second with `threads` threads (crypto.derive_keys)."""
    import crypto

    salt = secrets.token_bytes(32)
    stop_at = time.monotonic() + seconds
    counts = [0] * threads

    def derive(index: int) -> None:
        while time.monotonic() < stop_at:
            crypto.derive_keys(crypto.generate_codename(), salt)
            counts[index] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(derive, range(threads)))
    return sum(counts) / (time.monotonic() - started)


# --- nothing lost, nothing twice -----------------------------------------------------------


class Ledger:
    """Checks, after each phase, that every success page stands for one stored, delivered
    report, and that nothing else was stored."""

    def __init__(self, service: Any, receiver_store: Path, cores: int) -> None:
        self.service = service
        self.store = receiver_store
        self.cores = cores
        self.successes = 0

    def check(self, phase: Phase, deadline_seconds: float = 300.0) -> str:
        """'' when all is well; otherwise what is wrong."""
        import crypto

        salt = self.service.app.config["SETTINGS"].codename_salt
        codenames = [o.codename or "" for o in phase.succeeded]
        self.successes += len(codenames)
        with ThreadPoolExecutor(max_workers=self.cores) as pool:
            lookups = list(pool.map(lambda c: crypto.derive_keys(c, salt).lookup_id, codenames))
        deadline = time.monotonic() + deadline_seconds
        while True:
            problem = self._problem(lookups)
            if not problem or time.monotonic() > deadline or "delivered" not in problem:
                return problem
            time.sleep(0.5)

    def _problem(self, lookups: Sequence[str]) -> str:
        from sqlalchemy import func, select

        from reporting.infra import db
        from reporting.models import Delivery, DeliveryState, Report

        app = self.service.app
        with app.app_context(), db.database().transaction() as session:
            total = session.scalar(select(func.count()).select_from(Report)) or 0
            if total != self.successes:
                return f"{total} reports stored, {self.successes} success pages"
            for lookup in lookups:
                reports = session.scalars(select(Report).where(Report.lookup_id == lookup)).all()
                if len(reports) != 1:
                    return f"a success page's codename finds {len(reports)} reports"
                deliveries = session.scalars(
                    select(Delivery).where(Delivery.report_id == reports[0].id)
                ).all()
                if len(deliveries) != 1:
                    return f"a report has {len(deliveries)} deliveries, not 1"
                if deliveries[0].state != DeliveryState.DELIVERED:
                    return f"not all delivered yet ({deliveries[0].state})"
                if not (self.store / f"{deliveries[0].idempotency_id}.json").exists():
                    return "a delivered report is not at the receiver"
        return ""


# --- the service ---------------------------------------------------------------------------


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A PostgreSQL schema of our own at `server_url`, dropped at the end."""
    from sqlalchemy import create_engine, text

    schema = f"bench_submit_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        raise SystemExit(f"PostgreSQL at {server_url} is not reachable: {error}") from None
    separator = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def start_gunicorn(stack: ExitStack, env: dict[str, str], work: Path) -> tuple[Process, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG),
        "-b", f"127.0.0.1:{port}", "reporting:create_app()",
    ]  # fmt: skip
    gunicorn = start_process(stack, "gunicorn", command, env, work)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return bool(response.status == 200)  # urlopen's answer is Any to mypy

    wait_until(gunicorn, healthy)
    return gunicorn, base


# --- the run -------------------------------------------------------------------------------


@dataclass
class Results:
    bound: float
    cores: int
    pool: int
    web_processes: int
    idle_get_p95: float
    closed: list[Phase]
    saturated_get_p95: float
    base_rss: int
    peak_rss: int
    open: Phase
    slow: Phase
    slow_reopened: int
    checks: list[tuple[str, str]]

    @property
    def capacity(self) -> float:
        return max(p.per_second for p in self.closed)

    @property
    def unloaded_p95(self) -> float:
        return self.closed[0].p95()

    @property
    def rss_limit(self) -> int:
        return self.base_rss + (ARGON2_MIB * self.pool + 64) * MIB


def run(args: argparse.Namespace, sizes: Sizes) -> Results:
    from reporting.intake.derivations import machine_cores

    cores = machine_cores()
    with ExitStack() as stack:
        work = stack.enter_context(temp_work(args.tmpdir))
        (work / "instance").mkdir(mode=0o700)
        database_url = stack.enter_context(fresh_schema(args.postgres_url))
        progress("starting redis-server and the receiver")
        redis_url = start_redis(stack, work)
        env = service_env(work, database_url, redis_url)
        if args.web_processes is not None:
            env["WEB_CONCURRENCY"] = str(args.web_processes)
        web_processes = int(env.get("WEB_CONCURRENCY", "2"))
        pool = int(env.get("REPORTING_DERIVATION_POOL_SIZE") or cores)
        receiver = start_receiver(stack, work, env)
        progress("preparing the instance (PostgreSQL)")
        service = make_service(env, receiver)
        stack.callback(service.app.extensions["db"].engine.dispose)
        start_process(stack, "beat", celery_command("beat"), env, work)
        start_workers(stack, 1, env, work)
        progress("starting gunicorn with deploy/gunicorn.conf.py")
        gunicorn, base = start_gunicorn(stack, env, work)
        ledger = Ledger(service, receiver.store, cores)
        checks: list[tuple[str, str]] = []

        progress(f"Argon2id bound: {cores} threads for {sizes.bound_seconds:.0f} s")
        bound = argon2_bound(sizes.bound_seconds, cores)
        progress(f"  {bound:.2f} derivations/s")

        for _ in range(10):  # warm up every web process and thread
            page_get(base)
        sampler = RssSampler(gunicorn.proc.pid)
        base_rss = max(rss_of(sampler.workers()).values())
        idle = [page_get(base) for _ in range(sizes.idle_gets)]

        closed: list[Phase] = []
        saturated_gets: list[float] = []
        peak_rss = 0
        for reporters in CLOSED_LOOP:
            progress(f"closed loop, N = {reporters}, {sizes.phase_seconds:.0f} s")
            if reporters == SATURATED:
                with Prober(base).running() as prober, sampler.running():
                    phase = closed_loop(base, reporters, sizes.phase_seconds)
                saturated_gets = prober.seconds
                peak_rss = max(sampler.peak.values())
            else:
                phase = closed_loop(base, reporters, sizes.phase_seconds)
            closed.append(phase)
            progress(f"  {phase.per_second:.2f} reports/s; checking what was stored")
            checks.append((phase.name, ledger.check(phase)))
            gunicorn.check_alive()

        capacity = max(p.per_second for p in closed)
        rate = max(OPEN_LOOP_SHARE * capacity, 0.1)
        progress(f"open loop at {rate:.2f} arrivals/s, {sizes.phase_seconds:.0f} s")
        opened = open_loop(base, rate, sizes.phase_seconds)
        checks.append((opened.name, ledger.check(opened)))

        progress(f"{SLOW_CONNECTIONS} slow connections, {sizes.slow_journeys} honest journeys")
        slow = Phase(f"{SLOW_CONNECTIONS} slow connections", 0.0)
        with SlowCrowd(int(base.rpartition(":")[2]), SLOW_CONNECTIONS).running() as crowd:
            time.sleep(3)  # every slow connection open and trickling
            started = time.monotonic()
            for _ in range(sizes.slow_journeys):
                slow.add(journey(base))
            slow.seconds = time.monotonic() - started
        checks.append((slow.name, ledger.check(slow)))
        gunicorn.check_alive()
        progress("done; stopping processes, dropping the schema, removing temp folders")

    return Results(
        bound=bound,
        cores=cores,
        pool=pool,
        web_processes=web_processes,
        idle_get_p95=percentile(idle, 95),
        closed=closed,
        saturated_get_p95=percentile(saturated_gets, 95),
        base_rss=base_rss,
        peak_rss=peak_rss,
        open=opened,
        slow=slow,
        slow_reopened=crowd.reopened,
        checks=checks,
    )


def report(results: Results, sizes: Sizes, quick: bool) -> tuple[str, bool]:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f}"

    rows = [
        [p.name, f"{p.per_second:.2f}", f"{p.success_rate:.0%}", ms(p.p95()), p.refusals()]
        for p in [*results.closed, results.open, results.slow]
    ]
    lines = [
        table(["", "reports/s", "success", "journey p95, ms", "not served"], rows),
        "",
    ]
    capacity_ratio = results.capacity / results.bound if results.bound else 0.0
    get_ratio = results.saturated_get_p95 / results.idle_get_p95
    slow_ratio = results.slow.p95() / results.unloaded_p95
    checks_ok = all(not problem for _, problem in results.checks)
    verdicts = {
        "capacity": capacity_ratio >= TARGET_CAPACITY_RATIO,
        "page GET": get_ratio <= TARGET_GET_RATIO,
        "RSS": results.peak_rss <= results.rss_limit,
        "slow clients": results.slow.success_rate == 1.0 and slow_ratio <= TARGET_SLOW_P95_RATIO,
        "stored and delivered once": checks_ok,
    }

    def mark(name: str) -> str:
        return "PASS" if verdicts[name] else "FAIL"

    lines += [
        f"capacity {results.capacity:.2f} reports/s / Argon2id bound {results.bound:.2f} "
        f"derivations/s ({results.cores} threads) = {capacity_ratio:.2f} "
        f"(target >= {TARGET_CAPACITY_RATIO}): {mark('capacity')}",
        f"page GET p95 at N = {SATURATED} {ms(results.saturated_get_p95)} ms / idle "
        f"{ms(results.idle_get_p95)} ms = {get_ratio:.1f} (target <= {TARGET_GET_RATIO:.0f}): "
        f"{mark('page GET')}",
        f"peak RSS per web process at N = {SATURATED}: {results.peak_rss / MIB:.0f} MiB; limit "
        f"base {results.base_rss / MIB:.0f} + {ARGON2_MIB} x pool {results.pool} + 64 = "
        f"{results.rss_limit / MIB:.0f} MiB: {mark('RSS')}",
        f"with {SLOW_CONNECTIONS} slow connections ({results.slow_reopened} closed by the "
        f"server and reopened): success {results.slow.success_rate:.0%} (target 100%), "
        f"journey p95 {ms(results.slow.p95())} ms / unloaded {ms(results.unloaded_p95)} ms = "
        f"{slow_ratio:.1f} (target <= {TARGET_SLOW_P95_RATIO:.0f}): {mark('slow clients')}",
        "stored once and delivered once, after every phase: "
        + "; ".join(f"{name}: {problem or 'ok'}" for name, problem in results.checks)
        + f": {mark('stored and delivered once')}",
        "",
        f"{results.web_processes} gunicorn processes (deploy/gunicorn.conf.py), derivation pool "
        f"{results.pool} per process; {results.cores} cores shared by gunicorn, PostgreSQL, "
        "Redis, the worker, the receiver and these reporters; load average now "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()),
    ]
    passed = all(verdicts.values())
    failed = [name for name, ok in verdicts.items() if not ok]
    verdict = "PASS" if passed else "FAIL (" + ", ".join(failed) + ")"
    if quick:
        verdict += f" [--quick: {sizes.phase_seconds:.0f} s phases, too short to judge by]"
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines), passed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="a server to make a schema in")
    parser.add_argument("--web-processes", type=int, help="WEB_CONCURRENCY (default 2)")
    parser.add_argument("--tmpdir", help="where the temp folder goes (default: /tmp)")
    return parser.parse_args(argv)


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so processes are stopped and temp folders removed.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    sizes = QUICK if args.quick else FULL
    try:
        results = run(args, sizes)
    except KeyboardInterrupt:
        progress("interrupted; processes stopped and temp folders removed")
        return 130
    text, _ = report(results, sizes, args.quick)
    out("submit: reports through the portal (gunicorn, PostgreSQL, Redis, worker, receiver)")
    out(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
