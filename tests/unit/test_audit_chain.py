"""The keyed hash chain under the audit log (crypto/chain.py)."""

from __future__ import annotations

import pytest

from crypto.chain import GENESIS, Chain

KEY = b"a derived key of thirty-two byte"
FIELDS = ["7", "2026-01-01T10:00:00", "org", "actor", "login", "target", "detail"]


def test_link_is_a_keyed_mac_of_the_previous_mac_and_the_fields() -> None:
    chain = Chain(KEY)
    mac = chain.link(GENESIS, FIELDS)
    assert len(mac) == 64 and mac == mac.lower() and int(mac, 16) >= 0
    assert chain.link(GENESIS, FIELDS) == mac  # deterministic
    assert Chain(KEY).check(GENESIS, FIELDS, mac)
    assert Chain(b"another derived key, 32 bytes...").link(GENESIS, FIELDS) != mac
    assert not Chain(b"another derived key, 32 bytes...").check(GENESIS, FIELDS, mac)


@pytest.mark.parametrize("index", range(len(FIELDS)))
def test_any_field_change_breaks_the_link(index: int) -> None:
    chain = Chain(KEY)
    mac = chain.link(GENESIS, FIELDS)
    changed = list(FIELDS)
    changed[index] += "x"
    assert not chain.check(GENESIS, changed, mac)


def test_the_previous_mac_is_covered() -> None:
    chain = Chain(KEY)
    first = chain.link(GENESIS, FIELDS)
    second = chain.link(first, FIELDS)
    assert chain.check(first, FIELDS, second)
    assert not chain.check(GENESIS, FIELDS, second)
    assert second != first


def test_field_boundaries_count() -> None:
    chain = Chain(KEY)
    assert chain.link(GENESIS, ["ab", "c"]) != chain.link(GENESIS, ["a", "bc"])
    assert chain.link(GENESIS, ["a", ""]) != chain.link(GENESIS, ["a"])


def test_check_takes_only_the_form_link_writes() -> None:
    chain = Chain(KEY)
    mac = chain.link(GENESIS, FIELDS)
    for other in (
        mac.upper(),
        " " + mac,
        mac[:-2] + " " + mac[-2:],
        mac[:-1],
        mac + "0",
        "zz" * 32,
        "",
    ):
        assert not chain.check(GENESIS, FIELDS, other), other


def test_check_compares_the_whole_mac() -> None:
    """Every position counts; the comparison itself is cryptography's constant-time
    HMAC verify, so its time does not tell how much of a guess was right."""
    chain = Chain(KEY)
    mac = chain.link(GENESIS, FIELDS)
    for position in (0, 31, 63):
        flipped = "0" if mac[position] != "0" else "1"
        assert not chain.check(GENESIS, FIELDS, mac[:position] + flipped + mac[position + 1 :])


def test_a_key_of_the_wrong_size_is_refused_and_the_key_is_never_shown() -> None:
    for wrong in (b"short", KEY + b"!"):
        with pytest.raises(ValueError, match="must be 32 bytes"):
            Chain(wrong)
    assert repr(Chain(KEY)) == "Chain()"
