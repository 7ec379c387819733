"""Security parameters, pinned in one place so a review finds them all.

Changing a codename parameter changes every reporter's lookup id and key: it
needs a migration, not an edit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Argon2idParams:
    """Argon2id costs (RFC 9106); memory in KiB."""

    time_cost: int
    memory_cost_kib: int
    parallelism: int


#: Codename derivation: one Argon2id run per login or submission. RFC 9106's
#: second recommended option (64 MiB, t=3, p=4) costs ~0.2 s here and makes an
#: offline guess of an 90-bit codename hopeless.
CODENAME_ARGON2ID = Argon2idParams(time_cost=3, memory_cost_kib=64 * 1024, parallelism=4)
CODENAME_WORDS = 7
#: The instance-wide secret salt: a seized database alone does not allow even
#: a guess at codenames without it.
CODENAME_SALT_MIN_BYTES = 16
