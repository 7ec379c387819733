"""Reporter codenames: diceware phrases and what the server derives from them.

The server never stores a codename. From it, one Argon2id run (salted with an
instance-wide secret) yields an opaque lookup id, to find the reporter's
conversation, and an age identity, whose public key lets caseworkers reply
without the server being able to read the replies later.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from argon2.low_level import Type, hash_secret_raw

from .mlkem768x25519 import MLKEM768X25519Identity
from .params import CODENAME_ARGON2ID, CODENAME_SALT_MIN_BYTES, CODENAME_WORDS
from .primitives import hkdf_sha256
from .x25519 import X25519Identity

if TYPE_CHECKING:
    from .key_files import AnyIdentity

WORDLIST_FILE = "eff_large_wordlist.txt"
_LOOKUP_LABEL = b"reporting/codename/lookup-id/v1"
_IDENTITY_LABEL = b"reporting/codename/identity/v1"


@cache
def wordlist() -> tuple[str, ...]:
    """The EFF large wordlist (7,776 words; see data/README.md for its licence)."""
    text = resources.files(__package__).joinpath("data", WORDLIST_FILE).read_text("utf-8")
    words = tuple(text.split())
    if len(set(words)) != len(words) or len(words) < 7776:
        raise RuntimeError("the codename wordlist is damaged")
    return words


def generate_codename(words: int = CODENAME_WORDS) -> str:
    """A random phrase of `words` words (7 words ≈ 90 bits)."""
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def normalize_codename(text: str) -> str:
    """The canonical form of what a reporter typed: case, spaces and width folded."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


@cache
def _known_words() -> frozenset[str]:
    return frozenset(wordlist())


def is_valid_codename(text: str) -> bool:
    """Whether `text` is a whole codename (so typos get a clear message)."""
    words = normalize_codename(text).split(" ")
    return len(words) == CODENAME_WORDS and _known_words().issuperset(words)


@dataclass(frozen=True)
class CodenameKeys:
    """What a codename unlocks: where to look, and the key to read replies."""

    lookup_id: str
    identity: AnyIdentity

    def __repr__(self) -> str:
        return f"CodenameKeys(lookup_id={self.lookup_id!r})"


def derive_keys(codename: str, instance_salt: bytes, *, post_quantum: bool = True) -> CodenameKeys:
    """Derive the lookup id and the reply identity from a codename.

    Both come from one Argon2id output through HKDF with distinct labels, so
    the lookup id (stored) reveals nothing about the identity (never stored).
    """
    if len(instance_salt) < CODENAME_SALT_MIN_BYTES:
        raise ValueError("the instance codename salt is too short")
    params = CODENAME_ARGON2ID
    master = hash_secret_raw(
        secret=normalize_codename(codename).encode("utf-8"),
        salt=instance_salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    lookup_id = hkdf_sha256(master, b"", _LOOKUP_LABEL).hex()
    seed = hkdf_sha256(master, b"", _IDENTITY_LABEL)
    identity: AnyIdentity = MLKEM768X25519Identity(seed) if post_quantum else X25519Identity(seed)
    return CodenameKeys(lookup_id, identity)
