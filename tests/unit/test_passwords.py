"""Caseworker passwords: Argon2id with pinned costs, and rehashing when the costs change."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from crypto import passwords

PINNED = "$argon2id$v=19$m=65536,t=3,p=4$"


def test_the_costs_are_pinned_at_the_issue_s_minimum_or_above() -> None:
    assert (passwords.MEMORY_KIB, passwords.TIME_COST, passwords.PARALLELISM) == (65536, 3, 4)
    assert passwords.hash_password("a long enough passphrase").startswith(PINNED)


@pytest.mark.slow
def test_hashes_are_salted() -> None:
    assert passwords.hash_password("same password") != passwords.hash_password("same password")


@pytest.mark.slow
def test_verify() -> None:
    encoded = passwords.hash_password("a long enough passphrase")
    assert passwords.verify_password(encoded, "a long enough passphrase")
    assert not passwords.verify_password(encoded, "a long enough passphrasE")
    assert not passwords.verify_password(encoded, "")


@pytest.mark.parametrize("encoded", ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$xx$yy"])
def test_an_empty_or_malformed_hash_matches_nothing(encoded: str) -> None:
    assert not passwords.verify_password(encoded, "")
    assert not passwords.verify_password(encoded, "anything")


@pytest.mark.slow
def test_a_dummy_verification_checks_a_real_hash_and_never_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A login for an unknown name costs what one for a known name costs: one verification
    of a valid hash at the pinned costs (seen from what is checked, never from timings), which
    matches nothing, not even the dummy's own secret."""
    checked: list[tuple[str, bool]] = []
    real_verify = passwords.verify_password

    def verify(encoded: str, password: str) -> bool:
        matched = real_verify(encoded, password)
        checked.append((encoded, matched))
        return matched

    monkeypatch.setattr(passwords, "verify_password", verify)
    typed = ["whatever was typed", "", "not a password: equalises timing for unknown accounts"]
    for password in typed:
        assert passwords.burn_verification(password) is None
    assert len(checked) == len(typed)
    for encoded, matched in checked:
        assert encoded.startswith(PINNED) and not passwords.needs_rehash(encoded)
        assert not matched


@pytest.mark.slow
@pytest.mark.parametrize(
    "other",
    [
        PasswordHasher(time_cost=2, memory_cost=65536, parallelism=4),
        PasswordHasher(time_cost=3, memory_cost=32768, parallelism=4),
        PasswordHasher(time_cost=3, memory_cost=65536, parallelism=2),
    ],
)
def test_a_hash_made_with_other_costs_needs_rehashing_and_still_verifies(
    other: PasswordHasher,
) -> None:
    encoded = other.hash("a long enough passphrase")
    assert passwords.needs_rehash(encoded)
    assert passwords.verify_password(encoded, "a long enough passphrase")


@pytest.mark.slow
def test_a_hash_with_the_pinned_costs_needs_no_rehash() -> None:
    assert not passwords.needs_rehash(passwords.hash_password("a long enough passphrase"))
    assert passwords.needs_rehash("not a hash")
