"""A caseworker or an NGO installs its tool without the server's libraries.

Each tool's requirements file (caseworker_client/requirements.txt,
receiver/requirements.txt) is what `pip install -r` puts on their machine before
`pip install --no-deps .`. It must name every library the tool imports (its own
code, `protocol` and `crypto`, imports made inside functions included), none of
the server's, and the same versions as pyproject.toml. That the tools then never
load the server is checked by tests/unit/test_layering.py.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"crypto", "protocol", "reporting", "worker", "caseworker_client", "receiver"}
SERVER = {"flask", "flask-wtf", "flask-babel", "wtforms", "sqlalchemy", "alembic", "celery"}
SERVER |= {"redis", "psycopg", "gunicorn", "segno"}
TOOLS = ("caseworker_client", "receiver")
REQUIREMENT = re.compile(r"([A-Za-z0-9_.-]+)\s*(.*)")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> dict[str, str]:
    """name -> version specifier, from a requirements file or a pyproject list."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return parse([line.split("#")[0].strip() for line in lines])


def parse(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = REQUIREMENT.fullmatch(line.split(";")[0].split("#")[0].strip())
        if match:
            found[normalised(match[1].split("[")[0])] = match[2].strip()
    return found


def third_party_imports(*packages: str) -> set[str]:
    names: set[str] = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in OURS}


@pytest.mark.parametrize("tool", TOOLS)
def test_the_requirements_cover_what_the_tool_imports(tool: str) -> None:
    listed = requirements(ROOT / tool / "requirements.txt")
    distributions = packages_distributions()
    for module in sorted(third_party_imports(tool, "protocol", "crypto")):
        names = {normalised(d) for d in distributions.get(module, [module])}
        assert names & set(listed), f"{tool} imports {module}: add it to {tool}/requirements.txt"


@pytest.mark.parametrize("tool", TOOLS)
def test_the_requirements_hold_nothing_of_the_server(tool: str) -> None:
    listed = requirements(ROOT / tool / "requirements.txt")
    assert listed and not set(listed) & SERVER


@pytest.mark.parametrize("tool", TOOLS)
def test_the_requirements_agree_with_pyproject(tool: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = parse(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= parse(extra)
    for name, version in requirements(ROOT / tool / "requirements.txt").items():
        assert declared.get(name) == version, f"{name}{version} in {tool}/requirements.txt"
