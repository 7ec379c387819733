"""Caseworker passwords: Argon2id with costs pinned here, and only here.

A seized database gives an attacker these hashes; 64 MiB and 3 passes per guess
make a dictionary attack slow and memory-bound. When the pinned costs change,
`needs_rehash` tells the login to store a fresh hash.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# At least m = 64 MiB, t = 3, p = 4 (the caseworker issue); RFC 9106's second choice.
MEMORY_KIB = 64 * 1024
TIME_COST = 3
PARALLELISM = 4

_HASHER = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, hash_len=32, salt_len=16
)


@functools.cache
def _dummy_hash() -> str:
    """A valid hash of a password nobody knows: checking it costs what a real check costs,
    so a login for an account that does not exist takes as long as one that does.

    Made on first need, not at import, where every process importing this module (web,
    worker, commands) would pay a 64 MiB hash at start-up. Only a process's first unknown
    name pays the extra hash, which says nothing about which names exist."""
    return _HASHER.hash("not a password: equalises timing for unknown accounts")


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (salt and costs included)."""
    return _HASHER.hash(password)


def verify_password(encoded: str, password: str) -> bool:
    """Whether `password` matches; an empty or malformed hash matches nothing."""
    try:
        return _HASHER.verify(encoded or _dummy_hash(), password) and bool(encoded)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_verification(password: str) -> None:
    """Spend a verification's time for an account that does not exist."""
    verify_password(_dummy_hash(), password + "\x00")


def needs_rehash(encoded: str) -> bool:
    """Whether a stored hash was made with other costs than the pinned ones."""
    try:
        return _HASHER.check_needs_rehash(encoded)
    except InvalidHashError:
        return True
