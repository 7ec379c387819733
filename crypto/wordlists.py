"""The word lists codenames are written in, loaded once and checked for damage.

See data/README.md for where each list comes from and its licence.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

EFF_FILE = "eff_large_wordlist.txt"
CHINESE_SIMPLIFIED_FILE = "bip39_chinese_simplified.txt"
CHINESE_TRADITIONAL_FILE = "bip39_chinese_traditional.txt"
EFF_WORDS = 7776
BIP39_WORDS = 2048


def _read(name: str) -> tuple[str, ...]:
    return tuple(resources.files(__package__).joinpath("data", name).read_text("utf-8").split())


@cache
def english_words() -> tuple[str, ...]:
    """The EFF large wordlist (7,776 words): the words a codename is first written in."""
    words = _read(EFF_FILE)
    if len(set(words)) != len(words) or len(words) != EFF_WORDS:
        raise RuntimeError("the codename wordlist is damaged")
    return words


@cache
def chinese_words(traditional: bool) -> tuple[str, ...]:
    """The BIP39 Chinese list (2,048 single characters) in Simplified or Traditional script."""
    words = _read(CHINESE_TRADITIONAL_FILE if traditional else CHINESE_SIMPLIFIED_FILE)
    if len(set(words)) != BIP39_WORDS or len(words) != BIP39_WORDS:
        raise RuntimeError("a Chinese codename wordlist is damaged")
    if any(len(word) != 1 for word in words):
        raise RuntimeError("a Chinese codename wordlist is damaged")
    return words


@cache
def chinese_index() -> dict[str, int]:
    """Each character of either Chinese list to its index (the same in both lists).

    Both scripts read back, even mixed in one codename: a reader may have learnt
    the other script, or their keyboard may write it.
    """
    index: dict[str, int] = {}
    for traditional in (False, True):
        for position, word in enumerate(chinese_words(traditional)):
            if index.setdefault(word, position) != position:
                raise RuntimeError("the Chinese codename wordlists disagree")
    return index
