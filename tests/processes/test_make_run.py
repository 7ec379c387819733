"""What a newcomer meets first: `make run` and the commands it prints.

What matters: `make run` starts the service from the virtual environment without
activating it, so every command it prints must name that environment's programs (a bare
`flask` in the newcomer's shell is the system's, which cannot import the project). The
printed commands are run here as printed, from a shell whose PATH does not hold the
environment, against the real instance. Once the demo organisation has an admin, the hint
to make a first one is gone. `make run` installs only what running needs, `make test` the
test extras, and both reinstall when pyproject.toml changes (checked with `make -n` on a
copy of the Makefile, so nothing is installed here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

from reporting import create_app
from reporting.infra.operator_commands import commands_of_this_environment
from tests.support.enrolment import create_admin
from tests.support.portal import submit_report
from tests.support.processes import ROOT, Processes, clean_environ, free_port

PASSWORD = "correct horse battery staple, demo"


def operator_environ() -> dict[str, str]:
    """A newcomer's shell: no REPORTING_ settings, and the environment's bin not on PATH."""
    ours = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != ours)
    return clean_environ(PATH=path or os.defpath)


def shell(command: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run a printed command line as the newcomer would paste it."""
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=operator_environ(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_output(folder: Path, logs: Path) -> str:
    """Start `python -m reporting` as `make run` does (in `folder`, embedded defaults) and
    return what it printed before serving."""
    processes = Processes(logs)
    port = free_port()
    env = {**operator_environ(), "PORT": str(port), "REPORTING_NO_WORKER": "1"}
    try:
        server = processes.start("server", [sys.executable, "-m", "reporting"], env, cwd=folder)
        server.wait_for_port(port, timeout=60)
        return server.output()
    finally:
        processes.stop_all()


def indented_commands(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("  ") and line[2:3] != " "]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A working folder like a fresh checkout's, where `make run` keeps `instance/`."""
    work = tmp_path / "checkout"
    work.mkdir()
    return work


def the_app(folder: Path) -> Flask:
    return create_app({"INSTANCE_PATH": folder / "instance", "TESTING": True})


def test_the_printed_commands_work_as_printed(folder: Path, tmp_path: Path) -> None:
    if shutil.which("sh") is None:  # pragma: no cover
        pytest.skip("no /bin/sh")
    printed = start_output(folder, tmp_path / "logs")
    assert "Demo set-up" in printed, printed
    commands = indented_commands(printed)
    [listing] = [c for c in commands if c.endswith(" reports list")]
    [decrypt] = [c for c in commands if " -m crypto decrypt " in c]
    [admin_command] = [c for c in commands if " caseworker create-admin " in c]
    venv_bin = Path(sys.executable).parent
    for command in (listing, decrypt, admin_command):
        assert command.startswith(str(venv_bin)), command  # never a bare `flask` or `python`

    # A report arrives; the printed listing shows its file, the printed decryption opens it.
    assert submit_report(the_app(folder).test_client()).status_code == 200
    listed = shell(listing, folder)
    assert listed.returncode == 0, listed.stderr
    [blob] = [
        line.split()[-1] for line in listed.stdout.splitlines() if line.startswith("  report")
    ]
    blob_relative = Path(blob).resolve().relative_to((folder / "instance" / "blobs").resolve())
    opened = shell(decrypt.replace("<xx>/<id>.age", blob_relative.as_posix()), folder)
    assert opened.returncode == 0, opened.stderr
    assert '"kind":"report"' in opened.stdout

    # The printed create-admin makes the first admin (the password from stdin, for the test).
    create_admin(
        ["/bin/sh", "-c", f"{admin_command} --password-stdin"], PASSWORD, operator_environ(), folder
    )

    # Started again, it no longer says to make a first admin.
    again = start_output(folder, tmp_path / "logs-again")
    assert "Demo set-up" in again and "create-admin" not in again
    assert "first admin" not in again and "/casework/login" in again


def test_commands_name_the_running_environment(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the working folder the paths are relative (`.venv/bin/flask`); elsewhere
    absolute; a non-default instance folder is carried along."""
    monkeypatch.delenv("REPORTING_INSTANCE_PATH", raising=False)
    venv = folder / ".venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "flask"):
        (venv / "bin" / name).write_text("#!/bin/sh\n")
        (venv / "bin" / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv / "bin" / "python"))
    monkeypatch.chdir(folder)
    assert commands_of_this_environment() == (
        ".venv/bin/flask --app reporting",
        ".venv/bin/python",
    )
    (venv / "bin" / "flask").unlink()  # no script: the module, through the same interpreter
    assert commands_of_this_environment()[0] == ".venv/bin/python -m flask --app reporting"
    elsewhere = folder.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("REPORTING_INSTANCE_PATH", "/srv/my instance")
    flask, python = commands_of_this_environment()
    assert flask == f"REPORTING_INSTANCE_PATH='/srv/my instance' {venv}/bin/python -m flask" + (
        " --app reporting"
    )
    assert python == f"REPORTING_INSTANCE_PATH='/srv/my instance' {venv}/bin/python"


# The Makefile: what `make run` and `make test` would install (dry runs on a copy).


@pytest.fixture
def makefile_copy(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    copy = tmp_path / "project"
    (copy / "tests" / "interop").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", copy / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    shutil.copy(
        ROOT / "tests" / "interop" / "package-lock.json",
        copy / "tests" / "interop" / "package-lock.json",
    )
    return copy


def dry_run(folder: Path, target: str) -> list[str]:
    """The commands `make TARGET` would run, one a line."""
    # Run inside `make test`, the outer make's settings must not reach this one.
    outer = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    env = {k: v for k, v in clean_environ().items() if k not in outer}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, "PYTHON=python3"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line.split("pip install", 1)[1].strip() for line in lines if "pip install -e" in line]


def fake_installed(folder: Path, *stamps: str) -> None:
    """A venv as a finished install leaves it: the interpreter and the stamps, newer than
    pyproject.toml."""
    bin_folder = folder / ".venv" / "bin"
    bin_folder.mkdir(parents=True, exist_ok=True)
    (bin_folder / "python").write_text("#!/bin/sh\n")
    (bin_folder / "python").chmod(0o755)
    later = (folder / "pyproject.toml").stat().st_mtime + 10
    for stamp in stamps:
        path = folder / ".venv" / stamp
        path.touch()
        os.utime(path, (later, later))
    os.utime(bin_folder / "python", (later, later))


def test_make_run_installs_only_what_running_needs(makefile_copy: Path) -> None:
    fresh = dry_run(makefile_copy, "run")
    assert any("-m venv .venv" in line for line in fresh)
    assert installs(fresh) == ["-e ."]  # not the test extras
    assert fresh[-1].endswith(".venv/bin/python -m reporting")


def test_make_test_installs_the_test_extras(makefile_copy: Path) -> None:
    assert installs(dry_run(makefile_copy, "test")) == ["-e '.[test]'"]


def test_installed_environments_are_reused_until_pyproject_changes(makefile_copy: Path) -> None:
    fake_installed(makefile_copy, ".installed-run")
    assert installs(dry_run(makefile_copy, "run")) == []
    assert installs(dry_run(makefile_copy, "test")) == ["-e '.[test]'"]  # run's is not enough
    fake_installed(makefile_copy, ".installed-test")
    assert installs(dry_run(makefile_copy, "test")) == []
    later = time.time() + 3600
    os.utime(makefile_copy / "pyproject.toml", (later, later))
    assert installs(dry_run(makefile_copy, "run")) == ["-e ."]
    assert installs(dry_run(makefile_copy, "test")) == ["-e '.[test]'"]
