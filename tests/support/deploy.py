"""What deploy/ holds, as the tests read it: the environment example, the units' commands and
settings."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


DEPLOY = ROOT / "deploy"


INSTALL_PREFIX = "/opt/reporting"


def unit_settings(path: Path) -> dict[str, list[str]]:
    """A unit's [Service] section: each key with all its values, in order."""
    values: dict[str, list[str]] = {}
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def localised(text: str) -> str:
    """Unit text with the install prefix pointed at this checkout and its virtualenv."""
    return text.replace(f"{INSTALL_PREFIX}/.venv", sys.prefix).replace(INSTALL_PREFIX, str(ROOT))


def exec_start(name: str) -> list[str]:
    """The command a unit runs, as it would run from this checkout."""
    (command,) = unit_settings(DEPLOY / "systemd" / name)["ExecStart"]
    return shlex.split(localised(command))


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """deploy/env.example's settings: (set, commented out at their defaults)."""
    active: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            (defaults if match.group(1) else active)[match.group(2)] = match.group(3)
    return active, defaults
