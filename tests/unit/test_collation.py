"""Names in the reader's order: pinyin, zhuyin, the Uyghur and Tibetan alphabets, English."""

from __future__ import annotations

import random

import pytest

from reporting.intake.collation import (
    TIBETAN_ALPHABET,
    UYGHUR_ALPHABET,
    sorted_names,
    tibetan_root,
)
from reporting.intake.countries import _choices


def shuffled(names: list[str]) -> list[str]:
    mixed = names[:]
    random.Random(14).shuffle(mixed)
    mixed.reverse()  # never the order we expect by chance
    return mixed


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        # a < ai < an < ao; then syllable by syllable: 阿尔 (a er) before 阿根 (a gen),
        # 澳大 (ao4 da4) before 奥地 (ao4 di4); 秘鲁 reads bì (a phrase reading), not mì.
        ("zh_Hans", "阿尔巴尼亚 阿根廷 埃及 爱尔兰 安哥拉 澳大利亚 奥地利 秘鲁 美国 中国"),
        # ㄅ ㄆ ㄇ ㄈ ㄉ ㄊ ㄋ ㄌ … ㄓ: 巴西 (ㄅㄚ), 波蘭 (ㄅㄛ), 葡萄牙 (ㄆㄨˊ), 美國 (ㄇㄟˇ),
        # 法國 (ㄈㄚˇ), 德國 (ㄉㄜˊ), 泰國 (ㄊㄞˋ), 南非 (ㄋㄢˊ), 寮國 (ㄌㄧㄠˊ), 中國 (ㄓㄨㄥ).
        ("zh_Hant", "巴西 波蘭 葡萄牙 美國 法國 德國 泰國 南非 寮國 中國"),
        # a (ئا), e (ئە), b, p, t, … q, k, g, … y
        ("ug", "ئامېرىكا ئەنگلىيە بېلگىيە پاكىستان تۈركىيە قازاقىستان كانادا گېرمانىيە ياپونىيە"),
        # Accent-blind, case-blind; Å beside A, not after Z.
        ("en", "Afghanistan|Åland Islands|Albania|Côte d'Ivoire|Cuba|Réunion|Russia|Zimbabwe"),
    ],
)
def test_names_sort_in_the_readers_order(language: str, expected: str) -> None:
    names = expected.split("|" if "|" in expected else None)
    assert sorted_names(shuffled(names), language) == names


# The alphabet as its Latin transliteration (ULY) names it, letter by letter.
ULY_AND_UEY = "a=ا e=ە b=ب p=پ t=ت j=ج ch=چ x=خ d=د r=ر z=ز zh=ژ s=س sh=ش gh=غ f=ف q=ق k=ك g=گ ng=ڭ l=ل m=م n=ن h=ھ o=و u=ۇ ö=ۆ ü=ۈ w=ۋ ë=ې i=ى y=ي"  # noqa: E501, RUF001


def test_the_uyghur_alphabet_has_its_32_letters_in_order() -> None:
    pairs = [pair.split("=") for pair in ULY_AND_UEY.split()]
    assert len(UYGHUR_ALPHABET) == len(set(UYGHUR_ALPHABET)) == 32
    assert list(UYGHUR_ALPHABET) == [letter for _, letter in pairs]


def test_each_uyghur_letter_sorts_in_its_place() -> None:
    """One word per letter, each starting with it (vowels behind the hamza seat)."""
    words = [("ئ" + letter if letter in "اەوۇۆۈېى" else letter) + "ر" for letter in UYGHUR_ALPHABET]
    assert sorted_names(shuffled(words), "ug") == words


def test_tibetan_sorts_on_the_root_letter() -> None:
    assert len(TIBETAN_ALPHABET) == len(set(TIBETAN_ALPHABET)) == 30
    # སྐད (superscript s), དགའ (prefix d), རྒྱ (superscript r, subscript y), ལྷ (l over h).
    roots = {"སྐད": "ཀ", "དགའ": "ག", "རྒྱ": "ག", "ལྷ": "ལ", "བསྒྲུབས": "ག", "ཀྱི": "ཀ", "དག": "ད"}
    assert {syllable: tibetan_root(syllable) for syllable in roots} == roots
    # Plain root, then prefixed, then superscribed; vowels i u e o after the bare letter.
    expected = ["ཀ", "ཀི", "ཀུ", "ཀོ", "དཀར", "སྐད", "ཁ", "ག", "རྒྱ", "ང", "ཨ"]
    assert sorted_names(shuffled(expected), "bo") == expected


def test_names_in_another_script_come_after_the_readers_own() -> None:
    names = ["Taiwan", "ཀ་ཏཱར།", "Thailand", "རྒྱ་ནག"]
    assert sorted_names(names, "bo") == ["ཀ་ཏཱར།", "རྒྱ་ནག", "Taiwan", "Thailand"]


@pytest.mark.parametrize("language", ["en", "zh_Hans", "zh_Hant", "ug", "bo"])
def test_every_country_list_is_in_the_readers_order(language: str) -> None:
    names = [name for _, name in _choices(language)]
    assert len(names) > 240
    assert sorted_names(shuffled(names), language) == names
    assert names != sorted(names)  # code-point order is what this replaces
