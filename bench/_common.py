"""What every benchmark needs before it starts: the project importable, progress, free ports.

Only the standard library here: this module runs before we know the project's
dependencies can be imported.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
from pathlib import Path

# Run as `python bench/x.py`, sys.path[0] is bench/, not the repo root.
REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


def require_project(*modules: str) -> None:
    """Import `modules`, or run the benchmark again under the repo's venv.

    A bare `python` may lack the project's dependencies; `make venv` creates the
    venv that `make bench` uses.
    """
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        for module in modules:
            importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if not VENV_PYTHON.exists() or Path(sys.prefix).resolve() == VENV_PYTHON.parent.parent:
            raise SystemExit(
                f"cannot import {exc.name} ({exc}): run `make venv`, then {VENV_PYTHON}"
            ) from None
        progress(f"{exc}; re-running under {VENV_PYTHON}")
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.orig_argv[1:]])


def progress(message: str) -> None:
    """Say what is being measured now, on stderr, so stdout stays the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
