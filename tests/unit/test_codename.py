"""Reporter codenames: the wordlist, the generator and the one Argon2id derivation."""

from __future__ import annotations

import math

import pytest

from crypto import MLKEM768X25519Identity, X25519Identity, decrypt, encrypt
from crypto.codename import (
    derive_keys,
    generate_codename,
    is_valid_codename,
    normalize_codename,
    wordlist,
)
from crypto.params import CODENAME_ARGON2ID, CODENAME_WORDS

SALT = bytes(range(32))
OTHER_SALT = bytes(range(1, 33))
CODENAME = "abacus bronco cradle dwelling eyesight fraction gumball"


def test_wordlist_is_large_and_clean() -> None:
    words = wordlist()
    assert len(words) >= 7000
    assert len(set(words)) == len(words)
    assert all(w == w.strip().lower() and " " not in w for w in words)


def test_codename_has_seven_words_and_at_least_80_bits() -> None:
    assert CODENAME_WORDS == 7
    assert CODENAME_WORDS * math.log2(len(wordlist())) >= 80
    codename = generate_codename()
    words = codename.split(" ")
    assert len(words) == 7
    assert set(words) <= set(wordlist())
    assert is_valid_codename(codename)


def test_codenames_do_not_repeat() -> None:
    assert len({generate_codename() for _ in range(200)}) == 200


def test_argon2id_parameters_meet_the_floor() -> None:
    assert CODENAME_ARGON2ID.memory_cost_kib >= 64 * 1024
    assert CODENAME_ARGON2ID.time_cost >= 3
    assert CODENAME_ARGON2ID.parallelism >= 4


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Abacus  Bronco\tcradle", "abacus bronco cradle"),
        ("  ABACUS BRONCO  ", "abacus bronco"),
        ("\uff41\uff42\uff41\uff43\uff55\uff53 bronco", "abacus bronco"),  # full-width (CJK IME)
    ],
)
def test_normalize_codename(typed: str, expected: str) -> None:
    assert normalize_codename(typed) == expected


@pytest.mark.parametrize(
    "text",
    ["", "abacus", CODENAME + " extra", "abacus bronco cradle dwelling eyesight fraction xyzzy"],
)
def test_incomplete_or_unknown_codenames_are_invalid(text: str) -> None:
    assert not is_valid_codename(text)


@pytest.mark.slow
def test_derivation_is_deterministic_and_normalised() -> None:
    first = derive_keys(CODENAME, SALT)
    again = derive_keys("  " + CODENAME.upper().replace(" ", "   "), SALT)
    assert first.lookup_id == again.lookup_id
    assert str(first.identity) == str(again.identity)
    assert len(bytes.fromhex(first.lookup_id)) == 32


@pytest.mark.slow
def test_derivation_depends_on_codename_and_instance_salt() -> None:
    base = derive_keys(CODENAME, SALT)
    other_codename = derive_keys(CODENAME.replace("abacus", "abdomen"), SALT)
    other_salt = derive_keys(CODENAME, OTHER_SALT)
    lookups = {base.lookup_id, other_codename.lookup_id, other_salt.lookup_id}
    identities = {str(base.identity), str(other_codename.identity), str(other_salt.identity)}
    assert len(lookups) == 3
    assert len(identities) == 3


@pytest.mark.slow
def test_default_identity_is_post_quantum_and_decrypts_replies() -> None:
    keys = derive_keys(CODENAME, SALT)
    assert isinstance(keys.identity, MLKEM768X25519Identity)
    assert str(keys.identity.recipient).startswith("age1pq1")
    reply = encrypt(b"we received your report", [keys.identity.recipient])
    assert decrypt(reply, [derive_keys(CODENAME, SALT).identity]) == b"we received your report"


def test_classic_identity_on_request() -> None:
    keys = derive_keys(CODENAME, SALT, post_quantum=False)
    assert isinstance(keys.identity, X25519Identity)


def test_lookup_id_is_not_key_material() -> None:
    keys = derive_keys(CODENAME, SALT)
    assert keys.lookup_id not in str(keys.identity).lower()
    assert keys.lookup_id not in repr(keys.identity)
    assert str(keys.identity) not in repr(keys)


def test_short_instance_salt_is_refused() -> None:
    with pytest.raises(ValueError, match="salt"):
        derive_keys(CODENAME, b"short")
