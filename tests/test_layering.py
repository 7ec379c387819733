"""The dependency rules of docs/design.md, checked on the source.

`crypto` imports neither the web app nor the worker (nor Flask), and nothing
outside `crypto` touches a cipher, a key derivation or a password hash
(invariant 6), so that one package holds every cryptographic decision.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CRYPTO_ONLY = ("cryptography", "argon2", "hashlib", "hmac", "secrets", "nacl", "Crypto")
NOT_IN_CRYPTO = {"reporting", "worker", "flask", "werkzeug", "celery"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources("crypto"), ids=lambda p: p.name)
def test_crypto_depends_on_nothing_of_ours(path: Path) -> None:
    for name in imported_modules(path):
        assert name.split(".")[0] not in NOT_IN_CRYPTO, name


@pytest.mark.parametrize(
    "path", sources("reporting") + sources("worker"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_only_crypto_does_cryptography(path: Path) -> None:
    for name in imported_modules(path):
        assert name.split(".")[0] not in CRYPTO_ONLY, f"{path.name} imports {name}: use crypto/"


# Ways to learn who a client is; the service must not look (invariant 4), and must not trust
# X-Forwarded-For (a proxy fix would turn a forged header into a stored "address").
IDENTIFYING_ACCESSORS = ("remote_addr", "access_route", "user_agent", "X-Forwarded-For", "ProxyFix")


@pytest.mark.parametrize(
    "path", sources("reporting") + sources("worker"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_nothing_reads_who_the_client_is(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for accessor in IDENTIFYING_ACCESSORS:
        assert accessor not in source, f"{path.name} uses {accessor}"
