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


# The caseworker's desk: an optional extra of the client, with requirements of its own.
DESK = ROOT / "caseworker_client" / "desk"
DESK_REQUIREMENTS = ROOT / "caseworker_client" / "requirements-desk.txt"


def sources(package: str) -> list[Path]:
    """A tool's Python files; the desk's are the desk's own, not the plain client's."""
    if package == "desk":
        return sorted(DESK.rglob("*.py"))
    return sorted(p for p in (ROOT / package).rglob("*.py") if DESK not in p.parents)


def third_party_imports(*packages: str) -> set[str]:
    names: set[str] = set()
    for package in packages:
        for path in sources(package):
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


def test_the_desk_requirements_cover_what_the_desk_imports() -> None:
    """`pip install -r requirements.txt -r requirements-desk.txt` is all the desk needs."""
    listed = requirements(ROOT / "caseworker_client" / "requirements.txt")
    listed |= requirements(DESK_REQUIREMENTS)
    distributions = packages_distributions()
    for module in sorted(third_party_imports("desk")):
        names = {normalised(d) for d in distributions.get(module, [module])}
        assert names & set(listed), f"the desk imports {module}: add it to {DESK_REQUIREMENTS}"


def test_the_desk_is_an_extra_that_agrees_with_its_requirements() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert parse(project["optional-dependencies"]["desk"]) == requirements(DESK_REQUIREMENTS)


def test_the_plain_client_imports_no_flask() -> None:
    """Without the desk's requirements the client still installs and runs: only the desk
    (loaded by `reporting-caseworker desk` alone) imports Flask."""
    plain = third_party_imports("caseworker_client")
    assert not plain & {"flask", "flask_wtf", "wtforms", "werkzeug"}
    assert {"flask", "flask_wtf"} <= third_party_imports("desk")


def test_the_desk_without_flask_says_how_to_install_it(tmp_path: Path) -> None:
    """On a machine with the plain client only, `desk` says what to install, no traceback."""
    import subprocess

    blocked = "import sys; sys.modules.update(flask=None, flask_wtf=None, wtforms=None)\n"
    run = "from caseworker_client.cli import main; main(['desk', '--no-browser'])"
    env = {"PATH": "/usr/bin:/bin", "REPORTING_CASEWORKER_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", blocked + run],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "pip install -r caseworker_client/requirements-desk.txt" in result.stderr
