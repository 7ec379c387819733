"""`reporting-caseworker keygen`: private files, post-quantum keys, age-readable passphrases."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import crypto
from caseworker_client.cli import main
from caseworker_client.config import home_folder
from caseworker_client.identity import IdentityError, create_identity, load_identities
from tests.support.terminal import run_on_terminal

PASSPHRASE = "correct horse battery staple"


def invoke(home: Path, *args: str, input: str | None = None, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, list(args), input=input, env={"REPORTING_CASEWORKER_HOME": str(home), **env}
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("flags", "prefix"), [([], "age1pq1"), (["--classic"], "age1")])
def test_keygen_writes_a_private_identity_and_prints_the_public_key(
    tmp_path: Path, flags: list[str], prefix: str
) -> None:
    home = tmp_path / "home"
    result = invoke(home, "keygen", *flags)
    assert result.exit_code == 0, result.output
    identity_file = home / "identity.txt"
    assert mode(home) == 0o700
    assert mode(identity_file) == 0o600
    identities = crypto.parse_identities(identity_file.read_text())
    recipient = str(identities[0].recipient)
    assert recipient.startswith(prefix)
    assert recipient.startswith("age1pq1") == (prefix == "age1pq1")
    assert recipient in result.output
    assert "register-key" in result.output
    assert "AGE-SECRET-KEY" not in result.output


def test_keygen_never_replaces_an_identity(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert invoke(home, "keygen").exit_code == 0
    before = (home / "identity.txt").read_bytes()
    again = invoke(home, "keygen", "--classic")
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert "Traceback" not in again.output
    assert (home / "identity.txt").read_bytes() == before


def test_home_folder_follows_xdg_and_is_made_private(tmp_path: Path) -> None:
    assert home_folder({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "reporting-caseworker"
    assert home_folder({"REPORTING_CASEWORKER_HOME": str(tmp_path / "x")}) == tmp_path / "x"
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    assert invoke(loose, "list", "--offline").exit_code == 0
    assert mode(loose) == 0o700


@pytest.mark.slow
def test_passphrase_identity_round_trip(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke(home, "keygen", "--passphrase", input=f"{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    path = home / "identity.txt"
    assert mode(path) == 0o600
    text = path.read_bytes()
    assert text.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert b"AGE-SECRET-KEY" not in text
    identities = load_identities(path, lambda: PASSPHRASE)
    sealed = crypto.encrypt(b"a report", [identities[0].recipient])  # type: ignore[attr-defined]
    assert crypto.decrypt(sealed, identities) == b"a report"
    with pytest.raises(IdentityError, match="wrong passphrase"):
        load_identities(path, lambda: "not it")


def test_identity_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "id.txt"
    create_identity(path, classic=True)
    os.chmod(path, 0o644)
    with pytest.raises(IdentityError, match="chmod 600"):
        load_identities(path, lambda: "")


def test_missing_identity_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="keygen"):
        load_identities(tmp_path / "none.txt", lambda: "")


@pytest.mark.slow
@pytest.mark.needs_age
def test_stock_age_opens_the_passphrase_protected_identity(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    age = require_tool("age")
    path = tmp_path / "identity.txt"
    recipient = create_identity(path, classic=True, passphrase=PASSPHRASE)
    out = tmp_path / "plain.txt"
    run_on_terminal([age, "-d", "-o", str(out), str(path)], [PASSPHRASE.encode()])
    identity = crypto.parse_identities(out.read_text())[0]
    assert str(identity.recipient) == recipient

    # And `age -i` takes it as an identity file, asking for the passphrase.
    sealed = tmp_path / "report.age"
    sealed.write_bytes(crypto.encrypt(b"report for the caseworker", [identity.recipient]))
    opened = tmp_path / "report.txt"
    run_on_terminal(
        [age, "-d", "-i", str(path), "-o", str(opened), str(sealed)], [PASSPHRASE.encode()]
    )
    assert opened.read_bytes() == b"report for the caseworker"
