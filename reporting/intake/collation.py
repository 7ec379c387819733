"""Sort keys that put names in the order a reader of each interface language expects.

Code-point order is no order at all for Chinese (about 250 country names in what looks like
random order), and puts "Åland" after "Zimbabwe". So: pinyin for Simplified Chinese, zhuyin
(bopomofo) for Traditional, the 32-letter Uyghur Ereb Yéziqi alphabet for Uyghur, the
Tibetan alphabet for Tibetan, and accent-blind alphabetical order for English.

Limits, said plainly: Chinese readings come from pypinyin's dictionaries (phrase-aware, so
秘鲁 reads bì, not mì); characters with the same reading keep code-point order, not stroke
order. Tibetan is sorted syllable by syllable on each syllable's root letter, then on its
letters as written: close to dictionary order, but prefixes and superscripts are not weighed
in the dictionaries' exact sequence, and letters outside the thirty (the retroflex ཊ ཋ ཌ ཎ ཥ
of transliterations) come after ཨ. Names in another script (CLDR lacks some Tibetan names,
so English stands in) come after those in the reader's script, alphabetically.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

SortKey = tuple[Any, ...]

# The Uyghur alphabet (UEY), in its order: a e b p t j ch x d r z zh s sh gh f q k g ng l m n h
# o u ö ü w ë i y. The hamza seat ئ that starts a word written with a vowel is not a letter:
# ئۇ sorts as ۇ.
UYGHUR_ALPHABET = (
    "ا", "ە", "ب", "پ", "ت", "ج", "چ", "خ", "د", "ر", "ز", "ژ", "س", "ش", "غ", "ف",  # noqa: RUF001
    "ق", "ك", "گ", "ڭ", "ل", "م", "ن", "ھ", "و", "ۇ", "ۆ", "ۈ", "ۋ", "ې", "ى", "ي",  # noqa: RUF001
)  # fmt: skip
UYGHUR_HAMZA = "ئ"

# The thirty Tibetan consonants, ka to a, in their order.
TIBETAN_ALPHABET = (
    "ཀ", "ཁ", "ག", "ང", "ཅ", "ཆ", "ཇ", "ཉ", "ཏ", "ཐ", "ད", "ན", "པ", "ཕ", "བ", "མ",
    "ཙ", "ཚ", "ཛ", "ཝ", "ཞ", "ཟ", "འ", "ཡ", "ར", "ལ", "ཤ", "ས", "ཧ", "ཨ",
)  # fmt: skip
_TIBETAN_RANK = {letter: rank for rank, letter in enumerate(TIBETAN_ALPHABET)}
_TIBETAN_PREFIXES = frozenset("གདབམའ")
_TIBETAN_SUPERSCRIPTS = frozenset("རལས")
# Letters written below a root (subscripts ya, ra, la, wa; ha under la in ལྷ): never roots.
_TIBETAN_SUBSCRIPTS = frozenset("ཡརལཝཧ")
_SUBJOINED_OFFSET = 0x0F90 - 0x0F40  # U+0F90… are the subjoined forms of U+0F40…
_TSHEG = "་"

_TIBETAN_VOWELS = {"ི": 1, "ུ": 2, "ེ": 3, "ོ": 4}
_ZHUYIN_TONES = {"ˊ": 2, "ˇ": 3, "ˋ": 4, "˙": 5}  # noqa: RUF001


def _latin_key(name: str) -> SortKey:
    """Letters without their accents, case-blind; the exact name breaks ties."""
    decomposed = unicodedata.normalize("NFKD", name)
    base = "".join(char for char in decomposed if not unicodedata.combining(char))
    return (base.casefold(), name)


def english_key(name: str) -> SortKey:
    """Accent-blind alphabetical: Åland beside Albania, Côte d'Ivoire among the Cs."""
    return _latin_key(name)


def _other_script(name: str) -> SortKey:
    return (1, _latin_key(name))


def _pinyin_syllables(name: str, style_name: str) -> list[str]:
    # Imported here: pypinyin loads its phrase dictionary (tens of MB) on import, and only
    # the Chinese interfaces need it (once per process: countries.py caches the order).
    from pypinyin import Style, pinyin

    style = getattr(Style, style_name)
    return [readings[0] for readings in pinyin(name, style=style, neutral_tone_with_five=True)]


def _has_han(name: str) -> bool:
    return any("CJK" in unicodedata.name(char, "") for char in name)


def pinyin_key(name: str) -> SortKey:
    """Syllable by syllable, as Chinese dictionaries sort: letters, then tone (1-4, neutral)."""
    if not _has_han(name):
        return _other_script(name)
    syllables = []
    for syllable in _pinyin_syllables(name, "TONE3"):
        tone = int(syllable[-1]) if syllable[-1:].isdigit() else 0
        syllables.append((syllable.rstrip("012345").casefold(), tone))
    return (0, tuple(syllables), name)


def zhuyin_key(name: str) -> SortKey:
    """Syllable by syllable in bopomofo order (ㄅㄆㄇㄈ…, which is also their code-point
    order), then tone (1-4, neutral), as Taiwanese dictionaries sort."""
    if not _has_han(name):
        return _other_script(name)
    syllables = []
    for syllable in _pinyin_syllables(name, "BOPOMOFO"):
        tone = next((_ZHUYIN_TONES[mark] for mark in syllable if mark in _ZHUYIN_TONES), 1)
        letters = "".join(char for char in syllable if char not in _ZHUYIN_TONES)
        syllables.append((letters, tone))
    return (0, tuple(syllables), name)


def _alphabet_ranks(text: str, ranks: dict[str, int]) -> tuple[int, ...]:
    """Letters by their rank; a space or punctuation before every letter (so a shorter word
    comes first); anything else after every letter."""
    keys = []
    for char in text:
        if char in ranks:
            keys.append(ranks[char] + 1)
        elif unicodedata.category(char)[0] in "ZP":
            keys.append(0)
        elif unicodedata.category(char)[0] in "LN":
            keys.append(1000 + ord(char))
    return tuple(keys)


_UYGHUR_RANK = {letter: rank for rank, letter in enumerate(UYGHUR_ALPHABET)}


def uyghur_key(name: str) -> SortKey:
    """The Uyghur alphabet's order, letter by letter, the hamza seat ignored."""
    if not any(char in _UYGHUR_RANK for char in name):
        return _other_script(name)
    return (0, _alphabet_ranks(name.replace(UYGHUR_HAMZA, ""), _UYGHUR_RANK), name)


def _tibetan_letters(syllable: str) -> list[tuple[str, bool]]:
    """(letter in its full form, whether subjoined under the one before) for each letter."""
    letters = []
    for char in syllable:
        code = ord(char)
        if 0x0F40 <= code <= 0x0F6C:
            letters.append((char, False))
        elif 0x0F90 <= code <= 0x0FBC:
            letters.append((chr(code - _SUBJOINED_OFFSET), True))
    return letters


def _tibetan_root_index(syllable: str, letters: list[tuple[str, bool]]) -> int:
    """Where the root letter is, by the grammar's rules for prefixes, superscripts and
    subscripts. A syllable those rules cannot build (most transliterations of foreign
    names: ཨསྟྲི, བངྒ) is rooted on its first letter, where its reader looks for it."""
    root = None
    for index, (letter, subjoined) in enumerate(letters[:-1]):
        if letters[index + 1][1] and not subjoined:  # a stack: superscript over a root, or
            below = letters[index + 1][0]  # a root over subscripts
            if letter in _TIBETAN_SUPERSCRIPTS and below not in _TIBETAN_SUBSCRIPTS:
                root, top = index + 1, index
            elif below in _TIBETAN_SUBSCRIPTS:
                root, top = index, index
            else:
                return 0
            break
    if root is None:
        consonants = [index for index, char in enumerate(syllable) if 0x0F40 <= ord(char) <= 0x0F6C]
        bearers = [n for n, at in enumerate(consonants) if _bears_vowel(syllable, at)]
        if bearers:
            root = bearers[0]
        else:
            root = 1 if len(letters) >= 3 and letters[0][0] in _TIBETAN_PREFIXES else 0
        top = root
    native = top == 0 or (top == 1 and letters[0][0] in _TIBETAN_PREFIXES)
    return root if native else 0


def _bears_vowel(syllable: str, at: int) -> bool:
    following = syllable[at + 1 : at + 2]
    return bool(following) and 0x0F71 <= ord(following) <= 0x0F84


def tibetan_root(syllable: str) -> str | None:
    """The root letter of one syllable; None when the syllable has no Tibetan letter."""
    letters = _tibetan_letters(syllable)
    return letters[_tibetan_root_index(syllable, letters)][0] if letters else None


def _rank(letter: str) -> int:
    return _TIBETAN_RANK.get(letter, len(TIBETAN_ALPHABET))


def _tibetan_syllable_key(syllable: str) -> SortKey | None:
    """As dictionaries go: the root; then bare, prefixed, superscribed, both; subscripts;
    the vowel (none, i, u, e, o, others); the letters after."""
    letters = _tibetan_letters(syllable)
    if not letters:
        return None
    root = _tibetan_root_index(syllable, letters)
    superscript = letters[root - 1][0] if letters[root][1] and root >= 1 else None
    before = letters[: root - 1] if superscript else letters[:root]
    prefix = before[-1][0] if before else None
    stage = (1 if prefix else 0) + (2 if superscript else 0)
    after = letters[root + 1 :]
    subscripts = tuple(_rank(letter) for letter, subjoined in after if subjoined)
    suffixes = tuple(_rank(letter) for letter, subjoined in after if not subjoined)
    vowel = next(
        (_TIBETAN_VOWELS.get(char, 5) for char in syllable if 0x0F71 <= ord(char) <= 0x0F84), 0
    )
    return (
        _rank(letters[root][0]),
        stage,
        _rank(prefix) if prefix else -1,
        _rank(superscript) if superscript else -1,
        subscripts,
        vowel,
        suffixes,
    )


def tibetan_key(name: str) -> SortKey:
    """Syllable by syllable, each as a Tibetan dictionary orders syllables (close to it)."""
    syllables = name.replace("།", _TSHEG).replace(" ", _TSHEG).split(_TSHEG)
    keys = [key for key in map(_tibetan_syllable_key, syllables) if key is not None]
    if not keys:
        return _other_script(name)
    return (0, tuple(keys), name)


SORT_KEYS: dict[str, Callable[[str], SortKey]] = {
    "en": english_key,
    "zh_Hans": pinyin_key,
    "zh_Hant": zhuyin_key,
    "ug": uyghur_key,
    "bo": tibetan_key,
}


def sort_key(language: str) -> Callable[[str], SortKey]:
    """The sort key for names read in this interface language (English's for any other)."""
    return SORT_KEYS.get(language, english_key)


def sorted_names(names: Sequence[str], language: str) -> list[str]:
    """`names` in the reader's order."""
    return sorted(names, key=sort_key(language))
