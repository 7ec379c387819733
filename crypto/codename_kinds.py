"""One codename secret, written three ways: English words, digits, Chinese characters.

The secret is a number below 7776**7 (about 90.5 bits): the seven EFF words of a codename
read as the digits of a base-7,776 number. The other forms write the same number, so any
of them opens the same report, and the Argon2id input stays the English phrase (see
`canonical_codename`): codenames handed out before these forms existed keep their lookup
ids, and each of them has a digits and a Chinese form too.

- digits: the number in decimal, always 28 digits (10**27 < 7776**7 < 10**28), shown in
  groups of four; any Unicode decimal digit is read (full-width, Arabic-Indic, Tibetan);
- Chinese: the number in base 2,048, always 9 characters from the BIP39 Chinese lists
  (2048**8 = 2**88 < 7776**7 < 2048**9 = 2**99), Simplified or Traditional or both.

Each form is a bijection onto the same numbers, so each keeps the English codename's
entropy (log2 7776**7 ≈ 90.5 bits, above the 80-bit floor). Spaces, punctuation and
invisible format marks between digits or characters are ignored; the kind of a codename
is read from what was typed, never from the interface language.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from .params import CODENAME_WORDS
from .wordlists import BIP39_WORDS, EFF_WORDS, chinese_index, chinese_words, english_words

#: How many codenames there are: every form writes a number below this.
CODENAME_SPACE = EFF_WORDS**CODENAME_WORDS
CODENAME_DIGITS = 28
DIGIT_GROUP = 4
CODENAME_CHINESE_WORDS = 9
CHINESE_GROUP = 3


class CodenameKind(enum.Enum):
    """How a codename is written; each kind reads back to the same secret number."""

    WORDS = "words"
    DIGITS = "digits"
    CHINESE = "chinese"


def normalize_words(text: str) -> str:
    """The canonical form of typed words: case, spaces and width folded (NFKC)."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _without_separators(text: str) -> str:
    """NFKC, then drop spaces, punctuation (hyphens, dots, ideographic commas) and control
    or format marks (tabs, zero-width spaces, direction marks an RTL keyboard may add)."""
    kept = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if category[0] not in "ZP" and category not in ("Cc", "Cf"):
            kept.append(char)
    return "".join(kept)


@cache
def _english_index() -> dict[str, int]:
    return {word: position for position, word in enumerate(english_words())}


def _from_base(digits: list[int], base: int) -> int | None:
    number = 0
    for digit in digits:
        number = number * base + digit
    return number if number < CODENAME_SPACE else None


def _to_base(number: int, base: int, length: int) -> list[int]:
    if not 0 <= number < CODENAME_SPACE:
        raise ValueError("not a codename number")
    digits = []
    for _ in range(length):
        number, digit = divmod(number, base)
        digits.append(digit)
    return digits[::-1]


def read_codename(text: str) -> tuple[CodenameKind, int] | None:
    """The kind and secret number of a typed codename, or None if it is none of them."""
    compact = _without_separators(text)
    if compact and all(unicodedata.category(char) == "Nd" for char in compact):
        if len(compact) != CODENAME_DIGITS:
            return None
        number = _from_base([unicodedata.decimal(char) for char in compact], 10)
        return None if number is None else (CodenameKind.DIGITS, number)
    chinese = chinese_index()
    if compact and all(char in chinese for char in compact):
        if len(compact) != CODENAME_CHINESE_WORDS:
            return None
        number = _from_base([chinese[char] for char in compact], BIP39_WORDS)
        return None if number is None else (CodenameKind.CHINESE, number)
    words = normalize_words(text).split(" ")
    english = _english_index()
    if len(words) != CODENAME_WORDS or not all(word in english for word in words):
        return None
    number = _from_base([english[word] for word in words], EFF_WORDS)
    return None if number is None else (CodenameKind.WORDS, number)


def as_words(number: int) -> str:
    """The number as seven English words (the form codenames are derived from)."""
    words = english_words()
    return " ".join(words[i] for i in _to_base(number, EFF_WORDS, CODENAME_WORDS))


def as_digits(number: int) -> str:
    """The number as 28 decimal digits in groups of four (easy on any phone keyboard)."""
    digits = "".join(str(d) for d in _to_base(number, 10, CODENAME_DIGITS))
    return " ".join(digits[i : i + DIGIT_GROUP] for i in range(0, CODENAME_DIGITS, DIGIT_GROUP))


def as_chinese(number: int, *, traditional: bool = False) -> str:
    """The number as nine Chinese characters, in groups of three."""
    words = chinese_words(traditional)
    text = "".join(words[i] for i in _to_base(number, BIP39_WORDS, CODENAME_CHINESE_WORDS))
    return " ".join(
        text[i : i + CHINESE_GROUP] for i in range(0, CODENAME_CHINESE_WORDS, CHINESE_GROUP)
    )


@dataclass(frozen=True)
class CodenameForms:
    """Every way to write one codename, to show the reporter (all secret alike)."""

    words: str = field(repr=False)
    digits: str = field(repr=False)
    chinese_simplified: str = field(repr=False)
    chinese_traditional: str = field(repr=False)


def codename_forms(codename: str) -> CodenameForms:
    """All forms of a codename typed in any of them; ValueError if it is not a codename."""
    read = read_codename(codename)
    if read is None:
        raise ValueError("not a codename")
    number = read[1]
    return CodenameForms(
        words=as_words(number),
        digits=as_digits(number),
        chinese_simplified=as_chinese(number),
        chinese_traditional=as_chinese(number, traditional=True),
    )


def canonical_codename(text: str) -> str | None:
    """The English phrase a codename in any form stands for (the Argon2id input), or None."""
    read = read_codename(text)
    return None if read is None else as_words(read[1])
