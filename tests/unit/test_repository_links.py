"""The project documents itself: no file points at documents outside the repository.

A newcomer with a fresh clone has only what is in it, so the README, the docs and the
code's comments must point at `docs/design.md` (and other files of the repository), never
at a sibling folder such as `../shared/`. The one exception is the CCTV test-vector
loader in `tests/support/age_vectors.py`, whose default folder lies outside the checkout and is
documented there (and overridable with `$AGE_TESTVECTORS`); it is data for a test, not
documentation.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()
VECTOR_LOADER = ROOT / "tests" / "support" / "age_vectors.py"
SKIPPED_FOLDERS = {".git", ".venv", "node_modules", "instance", "build", "__pycache__"}
TEXT_SUFFIXES = {
    ".py", ".md", ".html", ".txt", ".toml", ".cfg", ".sh", ".conf", ".service", ".acl",
    ".example", ".mako", ".po", ".pot", ".json", ".yml", ".yaml", ".ini", "",
}  # fmt: skip
# Documents that lived beside the repository while it was young, and any path out of it.
OUTSIDE = re.compile(r"\.\./shared|shared/DESIGN|DESIGN\.md|FIELD-NOTES|AGE-FORMAT|STYLE\.md")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def repository_files() -> list[Path]:
    """The files a fresh clone has (git's list when there is one, else a walk)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [
            p
            for p in ROOT.rglob("*")
            if p.is_file() and not SKIPPED_FOLDERS & set(p.relative_to(ROOT).parts)
        ]
    paths = (ROOT / name for name in listed.decode().split("\0") if name)
    return [p for p in paths if p.is_file()]


def text_files() -> list[Path]:
    return sorted(
        p
        for p in repository_files()
        if (p.suffix in TEXT_SUFFIXES or p.name in ("Makefile", "run"))
        and not p.name.endswith(".egg-info")
    )


def test_the_file_list_is_the_repository() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in text_files()}
    expected = {"README.md", "docs/design.md", "Makefile", "reporting/infra/operator_commands.py"}
    assert expected <= names
    assert not any(name.startswith((".venv/", ".git/")) for name in names)


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for path in text_files():
        if path in (THIS, VECTOR_LOADER):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "point at docs/design.md instead:\n" + "\n".join(offenders)


def test_the_vector_loader_is_the_documented_exception() -> None:
    """The loader reads data from outside the checkout, says so, and can be pointed elsewhere."""
    text = VECTOR_LOADER.read_text(encoding="utf-8")
    assert "AGE_TESTVECTORS" in text and "not part of this repository" in text
    assert "../shared" not in text and "DESIGN" not in text


@pytest.mark.parametrize(
    "path", sorted(p for p in text_files() if p.suffix == ".md"), ids=lambda p: str(p.name)
)
def test_markdown_links_stay_inside_the_repository(path: Path) -> None:
    for target in MARKDOWN_LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{path.name} links outside: {target}"
        assert resolved.exists(), f"{path.name} links to a missing file: {target}"


def test_the_readme_points_at_the_design() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/design.md)" in readme
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    for heading in ("## Who uses it", "## The six invariants", "## How a report travels",
                    "## Layout"):  # fmt: skip
        assert heading in design
    assert design.count("\n1. **") == 1 and "\n6. **" in design
