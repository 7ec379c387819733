"""Reporter codenames: diceware phrases and what the server derives from them.

A codename may be typed as English words, digits or Chinese characters
(codename_kinds.py): all write one secret, and all derive from its English phrase.
The server never stores a codename. From it, one Argon2id run (salted with an
instance-wide secret) yields an opaque lookup id, to find the reporter's
conversation, and an age identity, whose public key lets caseworkers reply
without the server being able to read the replies later.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2.low_level import Type, hash_secret_raw

from .codename_kinds import canonical_codename, normalize_words, read_codename
from .mlkem768x25519 import MLKEM768X25519Identity
from .params import CODENAME_ARGON2ID, CODENAME_SALT_MIN_BYTES, CODENAME_WORDS
from .primitives import hkdf_sha256
from .wordlists import english_words
from .x25519 import X25519Identity

if TYPE_CHECKING:
    from .keys import AnyIdentity

_LOOKUP_LABEL = b"reporting/codename/lookup-id/v1"
_IDENTITY_LABEL = b"reporting/codename/identity/v1"


def wordlist() -> tuple[str, ...]:
    """The EFF large wordlist (7,776 words; see data/README.md for its licence)."""
    return english_words()


def generate_codename(words: int = CODENAME_WORDS) -> str:
    """A random phrase of `words` words (7 words ≈ 90 bits)."""
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def normalize_codename(text: str) -> str:
    """The canonical form of typed words: case, spaces and width folded."""
    return normalize_words(text)


def is_valid_codename(text: str) -> bool:
    """Whether `text` is a whole codename in any form (so typos get a clear message)."""
    return read_codename(text) is not None


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
    the lookup id (stored) reveals nothing about the identity (never stored). A codename
    in any form derives from its English phrase, so every form finds the same report;
    other text (callers check `is_valid_codename` first) derives from its normalised self.
    """
    if len(instance_salt) < CODENAME_SALT_MIN_BYTES:
        raise ValueError("the instance codename salt is too short")
    params = CODENAME_ARGON2ID
    master = hash_secret_raw(
        secret=(canonical_codename(codename) or normalize_codename(codename)).encode("utf-8"),
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
