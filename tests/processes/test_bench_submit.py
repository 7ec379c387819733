"""bench/submit.py's smoke run (`--quick`) works end to end, so the benchmark cannot rot:
gunicorn with the shipped config, PostgreSQL, Redis, a worker and the receiver, every phase,
and the figures and verdict line it prints. Its figures are not judged here (no timing
assertions); that every success page was stored and delivered once is."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.databases import POSTGRES_SERVER, require_postgres
from tests.support.processes import ROOT, clean_environ
from tests.support.tools import require_tool


def test_quick_run_prints_every_figure_and_a_verdict() -> None:
    require_postgres()
    require_tool("redis-server")
    run = subprocess.run(
        [sys.executable, "bench/submit.py", "--quick", "--postgres-url", POSTGRES_SERVER],
        cwd=ROOT,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    for figure in (
        r"capacity [\d.]+ reports/s / Argon2id bound [\d.]+ derivations/s",
        r"page GET p95 at N = 32 \d+ ms / idle \d+ ms",
        r"peak RSS per web process at N = 32: \d+ MiB",
        r"with 200 slow connections .* success \d+%",
        r"closed loop, N = 1: ok; closed loop, N = 8: ok; closed loop, N = 32: ok; "
        r"open loop, [\d.]+ arrivals/s: ok; 200 slow connections: ok",
    ):
        assert re.search(figure, out), (figure, out)
    assert re.search(r"^verdict: (PASS|FAIL)", out.splitlines()[-1])
