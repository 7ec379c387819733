"""Throughput and memory of a 1 GiB upload to the running service, against bare Werkzeug.

Why this exists: attachments are encrypted while they stream in (`reporting/intake/uploads.py`
hands Werkzeug's multipart parser a `BlobWriter` instead of a temp file), so a large upload
should cost the server neither memory that grows with the file nor much speed. Our targets:
peak RSS growth during the upload under 64 MiB, and throughput at least 60% of a bare
Werkzeug endpoint that only reads and discards the body, measured in the same run.

How: each side is a fresh server process on a free 127.0.0.1 port. Ours is
`python -m reporting` (the dev server, threaded) with a temp instance folder and the upload
limits raised to 1100 MiB; the reference is a tiny WSGI app on `werkzeug.serving` (threaded,
quiet, as ours) that reads `wsgi.input` in 64 KiB chunks and answers 200. Both receive the
same multipart/form-data body through `http.client`, generated on the fly from a repeated
1 MiB random block with its Content-Length computed in advance, so the client never holds the
body. A warm-up submission of 1 MiB goes first on each server (its RSS growth is shown as
ours' fixed cost per submission). Our upload must succeed: a 200 with the codename page, and a
stored blob at least as large as the file.

Timing runs from sending the request to having read the whole response, so for ours it
includes parsing, encryption, padding, fsync of the blob and the codename's Argon2id. RSS is
VmRSS of the server, sampled from /proc every 50 ms; growth is the peak minus VmRSS just
before the upload. VmHWM (the kernel's own peak, which no sampling can miss) is shown too.

    python bench/upload.py [--size-mib 1024] [--runs 1] [--tmpdir DIR]

Progress goes to stderr, results to stdout. MB = 10^6 bytes of request body; MiB = 2^20 bytes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from _common import REPO_ROOT, free_port, progress, require_project

require_project("werkzeug", "reporting")

MIB = 1 << 20
MB = 10**6
BLOCK = MIB  # the repeated random block, and the size of each send
LIMIT_MIB = 1100  # REPORTING_MAX_FILE_MB and REPORTING_MAX_SUBMISSION_MB for our server
WARMUP_MIB = 1
RSS_TARGET_MIB = 64
THROUGHPUT_TARGET = 0.60  # ours / bare
SAMPLE_SECONDS = 0.05
PROGRESS_SECONDS = 1.0
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 900.0  # per socket operation; a wedged server fails the run, not hangs it
NARRATIVE = (
    "Benchmark upload: a large attachment sent to measure the speed and memory of "
    "encrypting uploads while they stream in. Not a real report."
)

# The reference: discard the body, 64 KiB at a time, exactly CONTENT_LENGTH bytes (the dev
# server's wsgi.input is the socket itself, so reading further would wait for the client).
BARE_SERVER = r"""
import sys
from werkzeug.serving import WSGIRequestHandler, make_server

CHUNK = 64 * 1024

def app(environ, start_response):
    stream = environ["wsgi.input"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    while remaining > 0:
        data = stream.read(min(CHUNK, remaining))
        if not data:
            break
        remaining -= len(data)
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

class Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass

server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True, request_handler=Quiet)
server.serve_forever()
"""


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    """One server process under test, in its own temp folder."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    work: Path
    log: Path

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, message: str) -> SystemExit:
        tail = self.log_tail()
        return SystemExit(f"{self.name}: {message}" + (f"\nserver log:\n{tail}" if tail else ""))


def start_server(
    name: str, cmd: Sequence[str], env: dict[str, str], work: Path, port: int
) -> Server:
    log = work / "server.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only us, and we stop the server in order.
            start_new_session=True,
        )
    server = Server(name, proc, port, work, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise server.fail(f"exited with {proc.returncode} while starting")
        try:
            status, _, _ = request(port, "GET", "/healthz", timeout=2)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    raise server.fail(f"no answer on /healthz after {START_TIMEOUT:.0f} s")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def server_env(extra: dict[str, str]) -> dict[str, str]:
    """Our environment without any REPORTING_* setting of the caller's (no real database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTING_")}
    env.update(extra, PYTHONUNBUFFERED="1")
    return env


def temp_folder(stack: ExitStack, tmpdir: str | None) -> Path:
    """A folder removed when `stack` closes (after the server in it has been stopped)."""
    folder = tempfile.TemporaryDirectory(prefix="upload-bench-", dir=tmpdir)
    return Path(stack.enter_context(folder))


def ours_server(stack: ExitStack, tmpdir: str | None) -> Server:
    work = temp_folder(stack, tmpdir)
    port = free_port()
    env = server_env(
        {
            "PORT": str(port),
            "REPORTING_INSTANCE_PATH": str(work / "instance"),
            "REPORTING_MAX_FILE_MB": str(LIMIT_MIB),
            "REPORTING_MAX_SUBMISSION_MB": str(LIMIT_MIB),
        }
    )
    server = start_server("ours", [sys.executable, "-m", "reporting"], env, work, port)
    stack.callback(stop_server, server)  # stopped before its folder is removed
    return server


def bare_server(stack: ExitStack, tmpdir: str | None) -> Server:
    work = temp_folder(stack, tmpdir)
    port = free_port()
    cmd = [sys.executable, "-c", BARE_SERVER, str(port)]
    server = start_server("bare", cmd, server_env({}), work, port)
    stack.callback(stop_server, server)
    return server


# --- HTTP ----------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})  # type: ignore[arg-type]
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


CSRF_INPUT = re.compile(rb'<input[^>]*\bname="csrf_token"[^>]*>')
VALUE = re.compile(rb'\bvalue="([^"]*)"')


def open_form(server: Server) -> dict[str, str]:
    """GET the report form with an empty cookie jar: its CSRF token and the session cookie."""
    status, msg, page = request(server.port, "GET", "/report", timeout=30)
    if status != 200:
        raise server.fail(f"GET /report answered {status}")
    tag = CSRF_INPUT.search(page)
    value = VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise server.fail("no csrf_token input on /report")
    cookies = [c.split(";", 1)[0].strip() for c in msg.get_all("Set-Cookie") or []]
    if not cookies:
        raise server.fail("GET /report set no session cookie")
    return {"csrf_token": value.group(1).decode(), "Cookie": "; ".join(cookies)}


@dataclass(frozen=True)
class Body:
    """A multipart/form-data body made on the fly: fields, one file of `size` bytes, the end."""

    content_type: str
    head: bytes
    tail: bytes
    block: bytes
    size: int

    @property
    def length(self) -> int:
        return len(self.head) + self.size + len(self.tail)


def multipart_body(fields: dict[str, str], size: int, block: bytes) -> Body:
    boundary = "bench-" + os.urandom(16).hex()
    delimiter = f"--{boundary}".encode()
    if delimiter in block + block:  # across a block join too; never in practice
        raise SystemExit("the random block contains the multipart boundary: run again")
    head = bytearray()
    for name, value in fields.items():
        head += delimiter + b"\r\n"
        head += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        head += value.encode() + b"\r\n"
    head += delimiter + b"\r\n"
    head += b'Content-Disposition: form-data; name="attachments"; filename="evidence.bin"\r\n'
    head += b"Content-Type: application/octet-stream\r\n\r\n"
    tail = b"\r\n" + delimiter + b"--\r\n"
    return Body(f"multipart/form-data; boundary={boundary}", bytes(head), tail, block, size)


class Sender:
    """Yields the body to http.client, noting when the first byte went and showing progress."""

    def __init__(self, body: Body, label: str) -> None:
        self.body = body
        self.label = label
        self.started: float | None = None
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        body = self.body
        next_report = time.monotonic() + PROGRESS_SECONDS
        self.started = time.perf_counter()
        yield body.head
        remaining = body.size
        while remaining:
            piece = body.block if remaining >= len(body.block) else body.block[:remaining]
            yield piece
            remaining -= len(piece)
            self.sent += len(piece)
            now = time.monotonic()
            if now >= next_report:
                next_report = now + PROGRESS_SECONDS
                progress(
                    f"{self.label}: {self.sent // MIB}/{body.size // MIB} MiB sent "
                    f"({self.sent / MB / (time.perf_counter() - self.started):.0f} MB/s)"
                )
        yield body.tail
        if body.size >= 16 * MIB:
            progress(f"{self.label}: body sent, waiting for the response")


# --- memory --------------------------------------------------------------------------------


def proc_status_kib(pid: int, *fields: str) -> dict[str, int]:
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            key, _, rest = line.partition(b":")
            name = key.decode()
            if name in fields:
                found[name] = int(rest.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Peak VmRSS of a process, read every SAMPLE_SECONDS until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = proc_status_kib(pid, "VmRSS")["VmRSS"]
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_SECONDS):
            self._sample()

    def _sample(self) -> None:
        try:
            rss = proc_status_kib(self.pid, "VmRSS")["VmRSS"]
        except (OSError, KeyError):
            return
        self.peak_kib = max(self.peak_kib, rss)
        self.samples += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self._sample()  # one last look, after the response


# --- one measurement -----------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One upload to one server."""

    seconds: float
    body_bytes: int
    baseline_mib: float  # VmRSS right before the upload
    peak_mib: float  # sampled peak VmRSS
    hwm_mib: float  # VmHWM after the response
    cpu_seconds: float  # the server's CPU time during the upload
    samples: int

    @property
    def mb_per_s(self) -> float:
        return self.body_bytes / MB / self.seconds

    @property
    def growth_mib(self) -> float:
        return self.peak_mib - self.baseline_mib


def upload(server: Server, size: int, block: bytes, label: str) -> Upload:
    """POST one multipart body of a `size`-byte file to the server and check the answer."""
    pid = server.proc.pid
    if server.name == "ours":
        form = open_form(server)
        fields = {
            "csrf_token": form["csrf_token"],
            "narrative": NARRATIVE,
            "consent": "none",
            "reply_language": "en",
        }
        path, headers = "/report", {"Cookie": form["Cookie"]}
    else:
        fields = {"narrative": NARRATIVE, "consent": "none", "reply_language": "en"}
        path, headers = "/upload", {}
    body = multipart_body(fields, size, block)
    headers.update({"Content-Type": body.content_type, "Content-Length": str(body.length)})
    sender = Sender(body, label)

    baseline = proc_status_kib(pid, "VmRSS")["VmRSS"]
    cpu_before = cpu_seconds(pid)
    sampler = RssSampler(pid)
    sampler.start()
    try:
        status, _, page = request(server.port, "POST", path, body=sender, headers=headers)
        end = time.perf_counter()
    except OSError as exc:
        raise server.fail(f"upload failed after {sender.sent // MIB} MiB: {exc!r}") from None
    finally:
        sampler.stop()
    cpu = cpu_seconds(pid) - cpu_before
    hwm = proc_status_kib(pid, "VmHWM")["VmHWM"]
    assert sender.started is not None
    if status != 200:
        raise server.fail(f"upload answered {status}: {page[:300]!r}")
    if server.name == "ours":
        if b'id="codename"' not in page:
            raise server.fail(f"upload answered 200 without the codename page: {page[:300]!r}")
        check_blob(server, size)
    return Upload(
        seconds=end - sender.started,
        body_bytes=body.length,
        baseline_mib=baseline / 1024,
        peak_mib=sampler.peak_kib / 1024,
        hwm_mib=hwm / 1024,
        cpu_seconds=cpu,
        samples=sampler.samples,
    )


def check_blob(server: Server, size: int) -> None:
    """The attachment must be stored: a blob at least as large as the file (ciphertext)."""
    blobs = server.work / "instance" / "blobs"
    sizes = [p.stat().st_size for p in blobs.glob("??/*.age")]
    if not any(s >= size for s in sizes):
        raise server.fail(f"no stored blob of at least {size} bytes under {blobs}: {sizes}")


@dataclass(frozen=True)
class Run:
    warmup: Upload
    main: Upload


def measure(side: str, size: int, block: bytes, run: int, runs: int, tmpdir: str | None) -> Run:
    """A fresh server; a small warm-up submission, then the measured one."""
    label = f"{side}, run {run}/{runs}"
    with ExitStack() as stack:
        progress(f"{label}: starting the server")
        server = (ours_server if side == "ours" else bare_server)(stack, tmpdir)
        warmup = upload(server, WARMUP_MIB * MIB, block, f"{label} warm-up")
        progress(f"{label}: uploading {size // MIB} MiB")
        main = upload(server, size, block, label)
        progress(
            f"{label}: {main.mb_per_s:.1f} MB/s, RSS +{main.growth_mib:.1f} MiB, "
            f"server CPU {main.cpu_seconds:.1f} s in {main.seconds:.1f} s"
        )
    return Run(warmup, main)


# --- the report ----------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-align columns of figures so their digits line up; left-align words."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    figures = [bool(rows) and _is_figure(rows[0][i]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if figure else c.ljust(w)
            for c, w, figure in zip(cells, widths, figures, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def _is_figure(text: str) -> bool:
    return text[:1].isdigit() or text[:1] in ("+", "-")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(ours: list[Run], bare: list[Run]) -> str:
    best_ours = max((r.main for r in ours), key=lambda u: u.mb_per_s)
    best_bare = max((r.main for r in bare), key=lambda u: u.mb_per_s)
    # Memory: the worst run of each side, so a lucky run cannot hide growth.
    rss_ours = max(r.main.growth_mib for r in ours)
    rss_bare = max(r.main.growth_mib for r in bare)
    ratio = best_ours.mb_per_s / best_bare.mb_per_s
    rows = [
        [
            "throughput, MB/s (best run)",
            f"{best_ours.mb_per_s:.1f}",
            f"{best_bare.mb_per_s:.1f}",
            f"{ratio:.2f}",
            f">= {THROUGHPUT_TARGET:.0%} of bare",
            verdict(ratio >= THROUGHPUT_TARGET),
        ],
        [
            "peak RSS growth, MiB (worst run)",
            f"{rss_ours:+.1f}",
            f"{rss_bare:+.1f}",
            "",
            f"< {RSS_TARGET_MIB} MiB",
            verdict(rss_ours < RSS_TARGET_MIB),
        ],
    ]
    headers = ["", "ours", "bare Werkzeug", "ours/bare", "target", "result"]
    detail_headers = [
        "run",
        "MB/s",
        "seconds",
        "server CPU s",
        "VmRSS before",
        "peak VmRSS",
        "growth",
        "VmHWM after",
        "samples",
    ]
    detail = []
    for side, side_runs in (("ours", ours), ("bare", bare)):
        for i, r in enumerate(side_runs, 1):
            u = r.main
            detail.append(
                [
                    f"{side} {i}",
                    f"{u.mb_per_s:.1f}",
                    f"{u.seconds:.2f}",
                    f"{u.cpu_seconds:.1f}",
                    f"{u.baseline_mib:.1f}",
                    f"{u.peak_mib:.1f}",
                    f"{u.growth_mib:+.1f}",
                    f"{u.hwm_mib:.1f}",
                    str(u.samples),
                ]
            )
    warm = max(r.warmup.growth_mib for r in ours)
    beyond = max(r.main.growth_mib - r.warmup.growth_mib for r in ours)
    return "\n".join(
        [
            table(headers, rows),
            "",
            f"Every run (MiB of the server's memory; VmRSS sampled every "
            f"{SAMPLE_SECONDS * 1000:.0f} ms; server CPU = user + system, all threads):",
            table(detail_headers, detail),
            "",
            f"context: ours' {WARMUP_MIB} MiB warm-up submission grew VmRSS by up to "
            f"{warm:+.1f} MiB (the fixed cost of any submission, e.g. the codename's Argon2id, "
            "not the file's); the upload grew it by up to "
            f"{beyond:+.1f} MiB more than that",
            "ours' time includes parsing, encryption, padding, fsync of the blob and the "
            "codename's Argon2id; bare only reads the body",
        ]
    )


def environment() -> str:
    from importlib.metadata import version

    return (
        f"python {platform.python_version()}, werkzeug {version('werkzeug')}, "
        f"flask {version('flask')}, cryptography {version('cryptography')}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )


def run_benchmark(args: argparse.Namespace) -> None:
    size = args.size_mib * MIB
    block = os.urandom(BLOCK)
    ours: list[Run] = []
    bare: list[Run] = []
    for i in range(1, args.runs + 1):
        # The sides take turns, so drift (heat, page cache, neighbours) hits both alike.
        ours.append(measure("ours", size, block, i, args.runs, args.tmpdir))
        bare.append(measure("bare", size, block, i, args.runs, args.tmpdir))
    progress("done; temp folders removed")
    print(f"upload: ours (python -m reporting) vs bare Werkzeug: {environment()}")
    print(
        f"one {args.size_mib} MiB attachment ({size / MB:.1f} MB, a repeated 1 MiB random block) "
        f"in a multipart/form-data POST over HTTP/1.1 to 127.0.0.1; {args.runs} run(s) per side"
    )
    print()
    print(report(ours, bare))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="attachment size")
    parser.add_argument("--runs", type=int, default=1, help="runs per side; the best counts")
    parser.add_argument("--tmpdir", help="where the servers' temp folders go (default: /tmp)")
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.runs < 1:
        parser.error("--size-mib and --runs must be at least 1")
    if args.size_mib > LIMIT_MIB - 10:
        parser.error(f"--size-mib must stay under the server's {LIMIT_MIB} MiB limit")
    return args


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so servers are stopped and temp folders removed.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        run_benchmark(args)
    except KeyboardInterrupt:
        progress("interrupted; servers stopped and temp folders removed")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
