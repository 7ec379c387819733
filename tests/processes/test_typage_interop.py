"""Interop with typage (npm `age-encryption`), an independent age implementation.

Debian's age 1.1.1 predates post-quantum keys, so this is where our
mlkem768x25519 files meet another implementation: both directions, binary and
armored, and with the keys a reporter's codename derives.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import crypto
from crypto.codename import derive_keys
from tests.support.tools import require_tool, unavailable

INTEROP = Path(__file__).resolve().parents[1] / "interop"
HARNESS = INTEROP / "typage.mjs"
MODULE = INTEROP / "node_modules" / "age-encryption"

Typage = Callable[..., bytes]


@pytest.fixture(scope="module")
def typage() -> Typage:
    node = require_tool("node")
    if not MODULE.is_dir():
        unavailable(
            "typage is not installed (npm ci --prefix tests/interop)",
            ".ci/run must run `npm ci --prefix tests/interop`",
        )

    def run(*args: str, stdin: bytes = b"") -> bytes:
        result = subprocess.run(
            [node, str(HARNESS), *args], input=stdin, capture_output=True, timeout=120
        )
        assert result.returncode == 0, result.stderr.decode()
        return result.stdout

    return run


def test_hybrid_identity_gives_the_same_recipient(typage: Typage) -> None:
    identity = typage("keygen", "pq").decode().strip()
    ours = crypto.parse_identity(identity)
    assert str(ours) == identity
    assert str(ours.recipient) == typage("recipient", identity).decode().strip()


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 1 << 20])
@pytest.mark.parametrize("armor", [False, True])
def test_ours_post_quantum_decrypts_with_typage(typage: Typage, size: int, armor: bool) -> None:
    identities = [crypto.MLKEM768X25519Identity.generate() for _ in range(2)]
    plaintext = os.urandom(size)
    sealed = crypto.encrypt(plaintext, [i.recipient for i in identities], armor=armor)
    for identity in identities:
        assert typage("decrypt", str(identity), stdin=sealed) == plaintext


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 1 << 20])
@pytest.mark.parametrize("armor", [False, True])
def test_typage_post_quantum_decrypts_with_ours(typage: Typage, size: int, armor: bool) -> None:
    identity = crypto.MLKEM768X25519Identity.generate()
    plaintext = os.urandom(size)
    flags = ["--armor"] if armor else []
    sealed = typage("encrypt", *flags, str(identity.recipient), stdin=plaintext)
    assert crypto.decrypt(sealed, [identity]) == plaintext


def test_x25519_both_ways(typage: Typage) -> None:
    identity = crypto.X25519Identity.generate()
    sealed = typage("encrypt", str(identity.recipient), stdin=b"classic")
    assert crypto.decrypt(sealed, [identity]) == b"classic"
    sealed = crypto.encrypt(b"back", [identity.recipient])
    assert typage("decrypt", str(identity), stdin=sealed) == b"back"


def test_codename_identity_reads_a_reply_sealed_by_typage(typage: Typage) -> None:
    keys = derive_keys(crypto.generate_codename(), os.urandom(32))
    reply = typage("encrypt", str(keys.identity.recipient), stdin="我们收到了你的报告".encode())
    assert crypto.decrypt(reply, [keys.identity]).decode() == "我们收到了你的报告"


def test_typage_refuses_a_file_for_someone_else(typage: Typage) -> None:
    sealed = crypto.encrypt(b"x", [crypto.MLKEM768X25519Identity.generate().recipient])
    stranger = str(crypto.MLKEM768X25519Identity.generate())
    with pytest.raises(AssertionError):
        typage("decrypt", stranger, stdin=sealed)
