"""Reporters' free-text answers brought to one form, so the same thing written twice compares
equal: in linked cases (linked.py) and in the figures by city (stats.py).

Reporters type on phones, in Chinese, Uyghur, Tibetan or English input methods: the same
number or account arrives in full-width digits, with other spaces, in other case. NFKC
folds the compatibility forms (full-width digits and plus signs, ideographic spaces) into the
plain ones; casefold makes "Officer LI" and "officer li" one. Chinese names are compared
exactly after that: there is no case to fold, and two characters that look alike are two
different names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Answers that say "I do not know" rather than name anyone: never a link between two reports.
PLACEHOLDERS = frozenset(
    {
        "n/a", "na", "none", "no", "nil", "null", "unknown", "not known", "don't know",
        "dont know", "do not know", "i don't know", "i do not know", "not sure", "same",
        "same as above", "see above", "see narrative", "不知道", "不清楚", "不详", "不明",
        "未知", "无", "没有", "没", "同上", "见上", "见上文",
    }
)  # fmt: skip
# Words that name a kind of person or office, not one: "the police" in two reports links nothing.
GENERIC = frozenset(
    {
        "police", "the police", "officer", "an officer", "agent", "agents", "embassy",
        "the embassy", "consulate", "the consulate", "state security", "public security",
        "警察", "公安", "国安", "国保", "大使馆", "领事馆", "派出所",
    }
)  # fmt: skip

_SPACE = re.compile(r"\s+")
LIST_SEPARATORS = re.compile(r"[,;\n]")  # after NFKC, full-width ones are these
_IDEOGRAPHIC_COMMA = "、"  # NFKC keeps it: a list separator in Chinese


def text(value: str) -> str:
    """NFKC, casefolded, whitespace collapsed to single spaces, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def meaningful(normalised: str) -> bool:
    """Whether a normalised answer names something: has a letter or digit, and is no
    placeholder or generic word."""
    if normalised in PLACEHOLDERS or normalised in GENERIC:
        return False
    return any(unicodedata.category(c)[0] in "LN" for c in normalised)


def pieces(value: str) -> list[str]:
    """The items of a list the reporter separated with commas, semicolons, "、" or lines."""
    value = unicodedata.normalize("NFKC", value).replace(_IDEOGRAPHIC_COMMA, ",")
    return [piece.strip() for piece in LIST_SEPARATORS.split(value) if piece.strip()]


# -- phone numbers ----------------------------------------------------------------------------

# A run of digits with the separators people write inside a number; a leading "+" kept.
_PHONE_RUN = re.compile(r"\+?\d[\d \t\-./()]*\d")
_DATE = re.compile(r"(?<!\d)(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})(?!\d)")
# Country calling codes are prefix-free: 1 and 7 are one digit, these are two, all others
# three. That is enough to split an international number into code and national number.
_TWO_DIGIT_CODES = frozenset(
    {
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
        "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
        "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
        "95", "98",
    }
)  # fmt: skip
MIN_NATIONAL_DIGITS = 7  # shorter: an extension, an emergency number, part of a date
MAX_DIGITS = 15  # the longest an international number may be


@dataclass(frozen=True)
class Phone:
    """A phone number as the national number and, when it was written in international
    form, its country calling code ("" when unknown)."""

    national: str
    country_code: str

    def same_as(self, other: Phone) -> bool:
        """Two numbers are one if the national numbers agree and the country codes do not
        disagree ("06 1234 5678" written in the Netherlands is "+31 6 1234 5678")."""
        if self.national != other.national:
            return False
        return not (self.country_code and other.country_code) or (
            self.country_code == other.country_code
        )

    def __str__(self) -> str:
        return f"+{self.country_code} {self.national}" if self.country_code else self.national


def phone(written: str) -> Phone | None:
    """One number as written ("+86 138-0013-8000", "0086…", "06 12345678"), or None if it
    is not one. "+" or "00" starts an international number; a single leading 0 is the
    trunk prefix of a national one and is dropped, as it is when dialled from abroad."""
    written = unicodedata.normalize("NFKC", written).strip()
    digits = re.sub(r"\D", "", written)
    if _DATE.search(written) or not digits or len(digits) > MAX_DIGITS + 2:
        return None
    code = ""
    if written.startswith("+") or digits.startswith("00"):
        digits = digits[2:] if not written.startswith("+") else digits
        if digits[:1] in ("1", "7"):
            code, digits = digits[:1], digits[1:]
        elif digits[:2] in _TWO_DIGIT_CODES:
            code, digits = digits[:2], digits[2:]
        else:
            code, digits = digits[:3], digits[3:]
    elif digits.startswith("0"):
        digits = digits[1:]
    if not MIN_NATIONAL_DIGITS <= len(digits) <= MAX_DIGITS or len(set(digits)) == 1:
        return None
    return Phone(digits, code)


def phones_in(value: str) -> list[tuple[str, Phone]]:
    """Every phone number in a free-text answer, each with the text it was written as."""
    value = unicodedata.normalize("NFKC", value)
    found = []
    for match in _PHONE_RUN.finditer(value):
        number = phone(match.group())
        if number is not None:
            found.append((match.group().strip(), number))
    return found


# -- accounts and plates ----------------------------------------------------------------------

# A link to a profile ("https://t.me/wang_88") is the account after the site's name.
_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/)?")
_LABEL = re.compile(r"^[^\W\d_]{1,12}(?: id)?\s*:\s*(?=\S)")  # "wechat: ", "微信: ", "tg id: "


def account(written: str) -> str:
    """An account without its app label, link scheme, leading "@" or spaces:
    "WeChat: Wang_88", "@wang_88" and "wang_88" are one."""
    value = text(written)
    value = _SCHEME.sub("", value)
    value = _LABEL.sub("", value)
    return re.sub(r"\s", "", value).lstrip("@")


def plate(written: str) -> str:
    """A number plate without spaces, dashes or dots: "AB-123-C", "ab 123 c", "京A·12345"."""
    return re.sub(r"[\s\-.·・]", "", text(written))
