"""`python -m crypto`: the age-compatible command line, run as a real process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import crypto
from tests.support import terminal

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "crypto", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    path = tmp_path / "key.txt"
    assert run("keygen", "-o", str(path)).returncode == 0
    return path


def recipient_of(keyfile: Path) -> str:
    return str(crypto.parse_identities(keyfile.read_text())[0].recipient)


@pytest.mark.parametrize(("flags", "prefix"), [([], "age1"), (["--pq"], "age1pq1")])
def test_keygen_writes_private_file_and_prints_public_key(
    tmp_path: Path, flags: list[str], prefix: str
) -> None:
    path = tmp_path / "id.txt"
    result = run("keygen", *flags, "-o", str(path))
    assert result.returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = result.stderr.decode().strip().removeprefix("Public key: ")
    assert public.startswith(prefix)
    assert recipient_of(path) == public
    assert f"# public key: {public}" in path.read_text()


def test_keygen_refuses_to_overwrite_a_key(keyfile: Path) -> None:
    before = keyfile.read_bytes()
    line = one_error_line(run("keygen", "-o", str(keyfile)))
    assert "refusing to overwrite" in line
    assert keyfile.read_bytes() == before


def test_keygen_y_prints_recipients(keyfile: Path) -> None:
    result = run("keygen", "-y", str(keyfile))
    assert result.stdout.decode().strip() == recipient_of(keyfile)


@pytest.mark.parametrize("armor", [False, True])
def test_round_trip_through_files_and_pipes(tmp_path: Path, keyfile: Path, armor: bool) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(200_000))
    sealed = tmp_path / "sealed.age"
    args = ["encrypt", "-r", recipient_of(keyfile), "-o", str(sealed), str(plain)]
    assert run(*([*args, "-a"] if armor else args)).returncode == 0
    if armor:
        assert sealed.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    result = run("decrypt", "-i", str(keyfile), stdin=sealed.read_bytes())
    assert result.returncode == 0
    assert result.stdout == plain.read_bytes()


def test_encrypt_to_recipients_file_and_several_identities(tmp_path: Path) -> None:
    keys = [crypto.X25519Identity.generate() for _ in range(2)]
    rfile = tmp_path / "recipients.txt"
    rfile.write_text("# caseworkers\n" + "".join(f"{k.recipient}\n" for k in keys))
    sealed = run("encrypt", "-R", str(rfile), stdin=b"report").stdout
    for key in keys:
        ifile = tmp_path / "id.txt"
        ifile.write_text(crypto.identity_file_text(key))
        assert run("decrypt", "-i", str(ifile), stdin=sealed).stdout == b"report"


def test_interop_with_stock_age(
    tmp_path: Path, keyfile: Path, require_tool: Callable[[str], str]
) -> None:
    age = require_tool("age")
    ours = run("encrypt", "-r", recipient_of(keyfile), "-a", stdin=b"from us").stdout
    theirs = subprocess.run([age, "-d", "-i", str(keyfile)], input=ours, capture_output=True)
    assert theirs.stdout == b"from us"
    sealed = subprocess.run(
        [age, "-r", recipient_of(keyfile)], input=b"from age", capture_output=True
    ).stdout
    assert run("decrypt", "-i", str(keyfile), stdin=sealed).stdout == b"from age"


def _tamper_mac(data: bytes) -> bytes:
    i = data.index(b"\n--- ") + 6
    return data[:i] + (b"A" if data[i : i + 1] != b"A" else b"B") + data[i + 1 :]


@pytest.mark.parametrize(
    ("name", "mangle", "message"),
    [
        ("wrong key", None, "no identity matched"),
        ("not age", lambda d: b"hello, this is not an age file\n", "not an age file"),
        ("bad mac", _tamper_mac, "MAC"),
        ("truncated", lambda d: d[:-5], "damaged or incomplete"),
    ],
)
def test_failures_leave_no_output_file(
    tmp_path: Path, keyfile: Path, name: str, mangle: Callable[[bytes], bytes] | None, message: str
) -> None:
    sealed_bytes = run("encrypt", "-r", recipient_of(keyfile), stdin=os.urandom(150_000)).stdout
    identity = keyfile
    if mangle is None:
        identity = tmp_path / "other.txt"
        run("keygen", "-o", str(identity))
    else:
        sealed_bytes = mangle(sealed_bytes)
    sealed = tmp_path / "in.age"
    sealed.write_bytes(sealed_bytes)
    out = tmp_path / "out.bin"
    line = one_error_line(run("decrypt", "-i", str(identity), "-o", str(out), str(sealed)))
    assert message in line
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.bin")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["encrypt"], "no recipients"),
        (["encrypt", "-r", "age1notakey"], "bad recipient"),
        (
            [
                "encrypt",
                "-r",
                "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
            ],
            "secret key",
        ),
        (["decrypt", "-i", "/nonexistent/key.txt"], "cannot read identity file"),
        (
            [
                "encrypt",
                "-r",
                "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
                "/nonexistent/input",
            ],
            "cannot read",
        ),
    ],
)
def test_usage_errors_are_one_clear_line(args: list[str], message: str) -> None:
    line = one_error_line(run(*args))
    assert message in line
    assert "GFPYYSJZ" not in line  # a secret key typed by mistake is never echoed


def test_mixing_post_quantum_and_classic_is_refused() -> None:
    classic = str(crypto.X25519Identity.generate().recipient)
    pq = str(crypto.MLKEM768X25519Identity.generate().recipient)
    line = one_error_line(run("encrypt", "-r", classic, "-r", pq, stdin=b"x"))
    assert "mix" in line


def test_identity_file_with_bad_line_names_the_line_not_the_secret(tmp_path: Path) -> None:
    ifile = tmp_path / "id.txt"
    ifile.write_text("# comment\nAGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZ\n")
    line = one_error_line(run("decrypt", "-i", str(ifile), stdin=b"x"))
    assert "line 2" in line
    assert "GFPYYSJZ" not in line


def test_decrypt_without_identity_and_without_terminal_says_what_to_do() -> None:
    line = one_error_line(run("decrypt", stdin=b"x"))
    assert "-i IDENTITY_FILE" in line


def run_on_terminal(args: list[str], answers: list[bytes], stdin_file: Path | None = None) -> bytes:
    """Run the CLI with a pseudo-terminal as its controlling tty, answering prompts."""
    return terminal.run_on_terminal(
        [sys.executable, "-m", "crypto", *args],
        answers,
        stdin_file,
        env={"PYTHONPATH": str(ROOT)},
    )


def test_passphrase_round_trip_on_a_terminal(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"passphrase-protected")
    sealed = tmp_path / "sealed.age"
    run_on_terminal(
        ["encrypt", "-p", "-o", str(sealed), str(plain)], [b"hunter2 correct", b"hunter2 correct"]
    )
    assert sealed.read_bytes().startswith(b"age-encryption.org/v1\n-> scrypt ")
    out = tmp_path / "out.txt"
    run_on_terminal(["decrypt", "-o", str(out), str(sealed)], [b"hunter2 correct"])
    assert out.read_bytes() == b"passphrase-protected"


def test_passphrase_protected_identity_file(tmp_path: Path) -> None:
    identity = crypto.MLKEM768X25519Identity.generate()
    protected = tmp_path / "key.age"
    protected.write_bytes(
        crypto.encrypt(
            crypto.identity_file_text(identity).encode(), [crypto.ScryptRecipient("pw", 10)]
        )
    )
    sealed = tmp_path / "report.age"
    sealed.write_bytes(crypto.encrypt(b"report", [identity.recipient]))
    out = tmp_path / "report.txt"
    run_on_terminal(["decrypt", "-i", str(protected), "-o", str(out), str(sealed)], [b"pw"])
    assert out.read_bytes() == b"report"


def test_output_to_a_device_is_written_in_place(keyfile: Path) -> None:
    """`-o /dev/null` must not rename a temp file over the device (we may run as root)."""
    sealed = run("encrypt", "-r", recipient_of(keyfile), stdin=b"x").stdout
    assert run("decrypt", "-i", str(keyfile), "-o", "/dev/null", stdin=sealed).returncode == 0
    assert (
        run("encrypt", "-r", recipient_of(keyfile), "-o", "/dev/null", stdin=b"x").returncode == 0
    )
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [p for p in os.listdir("/dev") if p.startswith(".null.")]
