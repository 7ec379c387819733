"""One codename, three ways to write it: entropy, normalisation, round trips, old codenames."""

from __future__ import annotations

import hashlib
import math
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.codename import derive_keys, generate_codename, is_valid_codename
from crypto.codename_kinds import (
    CODENAME_CHINESE_WORDS,
    CODENAME_DIGITS,
    CODENAME_SPACE,
    CodenameKind,
    as_chinese,
    as_digits,
    as_words,
    canonical_codename,
    codename_forms,
    read_codename,
)
from crypto.params import CODENAME_WORDS
from crypto.wordlists import BIP39_WORDS, EFF_WORDS, chinese_index, chinese_words

SALT = bytes(range(32))
# A codename as the code before these forms derived it (computed on main, commit 788c935):
# its lookup id and reply key must never change, or stored reports would be lost.
OLD_CODENAME = "abacus bronco cradle dwelling exalted fraction gumball"
OLD_LOOKUP_ID = "0ea7a50aa6beee79e7e291b0a2e4be5cd78650e3eab4af528b792ead1927f2d9"
OLD_X25519_RECIPIENT = "age1n35r3jlkhpkqht455l6rnl6sek68apypuuj67djvru4crcasdf0q0mcv9t"
OLD_DIGITS = "0000 0197 9244 2844 0892 9319 6628"
OLD_CHINESE = "的的北 局牧叔 孤稿尤"
# One whose Simplified and Traditional forms differ (紹誤 / 绍误, 衝 / 冲).
MIXED = "throbbing aluminum catlike slightly curvy ozone swizzle"
MIXED_SIMPLIFIED = "不拒境 绍误只 森冲冠"
MIXED_TRADITIONAL = "不拒境 紹誤只 森衝冠"

numbers = st.integers(min_value=0, max_value=CODENAME_SPACE - 1)


# --- Entropy: every kind writes the same >= 80-bit secret -------------------------------------


def test_entropy_figures() -> None:
    """7 EFF words: log2(7776**7) = 90.47 bits. 80 bits would need 25 digits (10**24 < 2**80
    <= 10**25) or 8 BIP39 characters (2048**8 = 2**88); writing every one of the 7776**7
    codenames needs 28 digits (10**27 < 7776**7 < 10**28) and 9 characters (2**88 < 2**90.5 <
    2**99). Each form is a bijection onto the same numbers, so each keeps 90.47 bits."""
    bits = math.log2(CODENAME_SPACE)
    assert CODENAME_SPACE == EFF_WORDS**CODENAME_WORDS == 6**35
    assert 90.4 < bits < 90.5
    assert bits >= 80
    assert math.ceil(80 / math.log2(10)) == 25
    assert math.ceil(80 / math.log2(BIP39_WORDS)) == 8
    assert 10 ** (CODENAME_DIGITS - 1) < CODENAME_SPACE <= 10**CODENAME_DIGITS
    assert CODENAME_DIGITS >= 25
    assert BIP39_WORDS ** (CODENAME_CHINESE_WORDS - 1) < CODENAME_SPACE
    assert CODENAME_SPACE <= BIP39_WORDS**CODENAME_CHINESE_WORDS
    assert CODENAME_CHINESE_WORDS >= 8


@pytest.mark.parametrize("number", [0, 1, CODENAME_SPACE // 2, CODENAME_SPACE - 1])
def test_every_kind_writes_the_extremes(number: int) -> None:
    for text, kind in [
        (as_words(number), CodenameKind.WORDS),
        (as_digits(number), CodenameKind.DIGITS),
        (as_chinese(number), CodenameKind.CHINESE),
        (as_chinese(number, traditional=True), CodenameKind.CHINESE),
    ]:
        assert read_codename(text) == (kind, number), text


def test_numbers_past_the_codenames_are_refused() -> None:
    assert read_codename(str(CODENAME_SPACE).zfill(CODENAME_DIGITS)) is None
    assert read_codename("9" * CODENAME_DIGITS) is None
    last = chinese_words(False)[-1]
    assert read_codename(last * CODENAME_CHINESE_WORDS) is None
    with pytest.raises(ValueError):
        as_digits(CODENAME_SPACE)
    with pytest.raises(ValueError):
        as_chinese(-1)


# --- Round trips -------------------------------------------------------------------------------


@given(numbers)
def test_round_trips(number: int) -> None:
    assert read_codename(as_words(number)) == (CodenameKind.WORDS, number)
    assert read_codename(as_digits(number)) == (CodenameKind.DIGITS, number)
    simplified = as_chinese(number)
    traditional = as_chinese(number, traditional=True)
    for text in (simplified, traditional, simplified.replace(" ", ""), traditional + " "):
        assert read_codename(text) == (CodenameKind.CHINESE, number)
    forms = codename_forms(as_digits(number))
    assert forms.words == as_words(number)
    assert forms.chinese_traditional == traditional
    assert canonical_codename(simplified) == canonical_codename(forms.digits) == forms.words


@given(st.lists(st.sampled_from(chinese_words(False)), min_size=9, max_size=9))
def test_any_nine_characters_in_range_read_back_the_same(characters: list[str]) -> None:
    typed = "".join(characters)
    read = read_codename(typed)
    if read is not None:
        assert as_chinese(read[1]).replace(" ", "") == typed


def test_generated_codenames_have_every_form() -> None:
    for _ in range(50):
        codename = generate_codename()
        forms = codename_forms(codename)
        assert forms.words == codename
        assert len(forms.digits.replace(" ", "")) == CODENAME_DIGITS
        assert len(forms.chinese_simplified.replace(" ", "")) == CODENAME_CHINESE_WORDS


# --- Normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(OLD_DIGITS, id="grouped"),
        pytest.param(OLD_DIGITS.replace(" ", ""), id="no-spaces"),
        pytest.param(OLD_DIGITS.replace(" ", "-"), id="hyphens"),
        pytest.param(OLD_DIGITS.replace(" ", "."), id="dots"),
        pytest.param("  " + OLD_DIGITS.replace(" ", "\t") + "\n", id="tabs-newline"),
        pytest.param(OLD_DIGITS.replace(" ", "\u3000"), id="ideographic-space"),
        pytest.param(OLD_DIGITS.replace(" ", "\u200b"), id="zero-width-space"),
        pytest.param(OLD_DIGITS.replace(" ", " \u200f"), id="rtl-marks"),
        pytest.param(
            "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in OLD_DIGITS),
            id="full-width",
        ),
        pytest.param(
            "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in OLD_DIGITS),
            id="arabic-indic",
        ),
        pytest.param(
            "".join(chr(0x0F20 + int(c)) if c.isdigit() else c for c in OLD_DIGITS),
            id="tibetan",
        ),
        pytest.param(OLD_CHINESE, id="chinese-grouped"),
        pytest.param(OLD_CHINESE.replace(" ", ""), id="chinese-no-spaces"),
        pytest.param(" ".join(OLD_CHINESE.replace(" ", "")), id="chinese-each-spaced"),
        pytest.param(OLD_CHINESE.replace(" ", "\uff0c"), id="chinese-commas"),
        pytest.param(OLD_CHINESE.replace(" ", "\u3000"), id="chinese-ideographic-space"),
        pytest.param(OLD_CODENAME.upper().replace(" ", "  "), id="english-as-today"),
    ],
)
def test_typed_forms_read_back(typed: str) -> None:
    assert canonical_codename(typed) == OLD_CODENAME
    assert is_valid_codename(typed)


@pytest.mark.parametrize("typed", [MIXED_SIMPLIFIED, MIXED_TRADITIONAL, "不拒境紹误只森衝冠"])
def test_chinese_in_either_script_or_mixed(typed: str) -> None:
    assert canonical_codename(typed) == MIXED
    forms = codename_forms(MIXED)
    assert (forms.chinese_simplified, forms.chinese_traditional) == (
        MIXED_SIMPLIFIED,
        MIXED_TRADITIONAL,
    )


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(OLD_DIGITS[:-1], id="27-digits"),
        pytest.param(OLD_DIGITS + "1", id="29-digits"),
        pytest.param(OLD_CHINESE[:-1], id="8-characters"),
        pytest.param(OLD_CHINESE + "的", id="10-characters"),
        pytest.param(OLD_CHINESE.replace("的", "龘", 1), id="character-not-on-the-list"),
        pytest.param(OLD_DIGITS[:-4] + "的的北", id="digits-and-characters"),
        pytest.param(OLD_CODENAME.replace("abacus", "abacus1"), id="word-with-digit"),
        pytest.param("- . ,", id="only-separators"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_forms_are_not_codenames(typed: str) -> None:
    assert read_codename(typed) is None
    assert not is_valid_codename(typed)
    with pytest.raises(ValueError):
        codename_forms(typed)


# --- One derivation, and old codenames unchanged -----------------------------------------------


def test_old_codenames_derive_as_before() -> None:
    keys = derive_keys(OLD_CODENAME, SALT, post_quantum=False)
    assert keys.lookup_id == OLD_LOOKUP_ID
    assert str(keys.identity.recipient) == OLD_X25519_RECIPIENT


def test_every_form_derives_the_same_keys() -> None:
    forms = codename_forms(OLD_CODENAME)
    assert (forms.digits, forms.chinese_simplified) == (OLD_DIGITS, OLD_CHINESE)
    for typed in (forms.digits, forms.chinese_simplified.replace(" ", "")):
        keys = derive_keys(typed, SALT, post_quantum=False)
        assert keys.lookup_id == OLD_LOOKUP_ID
        assert str(keys.identity.recipient) == OLD_X25519_RECIPIENT


def test_forms_are_not_in_repr() -> None:
    forms = codename_forms(OLD_CODENAME)
    assert "abacus" not in repr(forms) and "0197" not in repr(forms) and "北" not in repr(forms)


# --- The Chinese word lists --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sha256"),
    [
        (
            "bip39_chinese_simplified.txt",
            "5c5942792bd8340cb8b27cd592f1015edf56a8c5b26276ee18a482428e7c5726",
        ),
        (
            "bip39_chinese_traditional.txt",
            "417b26b3d8500a4ae3d59717d7011952db6fc2fb84b807f3f94ac734e89c1b5f",
        ),
    ],
)
def test_chinese_lists_are_the_bip39_ones(name: str, sha256: str) -> None:
    data = resources.files("crypto").joinpath("data", name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256


def test_chinese_lists_agree() -> None:
    simplified, traditional = chinese_words(False), chinese_words(True)
    assert len(simplified) == len(traditional) == BIP39_WORDS
    assert all(len(word) == 1 for word in simplified + traditional)
    index = chinese_index()
    assert all(index[w] == i for i, w in enumerate(simplified))
    assert all(index[w] == i for i, w in enumerate(traditional))
