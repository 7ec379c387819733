"""The native scrypt (passphrase) recipient type.

Used to protect identity files at rest, and needed to read every file age can
write. The work factor a decryptor accepts is capped: a hostile header could
otherwise ask for gigabytes of memory.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from . import b64
from .errors import HeaderError
from .format import Stanza
from .primitives import open_once, random_bytes, seal_once

STANZA_TYPE = "scrypt"
SALT_LABEL = b"age-encryption.org/v1/scrypt"
SALT_SIZE = 16
WRAPPED_KEY_SIZE = 32
DEFAULT_WORK_FACTOR = 18  # about one second, as age chooses
MAX_WORK_FACTOR = 22  # age's default cap for decryption
_WORK_FACTOR = re.compile(r"[1-9][0-9]*\Z")


def _wrap_key(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    kdf = Scrypt(salt=SALT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
    return kdf.derive(passphrase)


class ScryptRecipient:
    """A passphrase that a file key can be wrapped to."""

    post_quantum = False  # symmetric: not weakened by quantum computers, but age labels it alone
    exclusive = True

    def __init__(self, passphrase: str, work_factor: int = DEFAULT_WORK_FACTOR) -> None:
        if not passphrase:
            raise ValueError("empty passphrase")
        if not 1 <= work_factor <= MAX_WORK_FACTOR:
            raise ValueError(f"scrypt work factor must be between 1 and {MAX_WORK_FACTOR}")
        self._passphrase = passphrase.encode()
        self._work_factor = work_factor

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self._work_factor})"

    def wrap(self, file_key: bytes) -> Stanza:
        salt = random_bytes(SALT_SIZE)
        body = seal_once(_wrap_key(self._passphrase, salt, self._work_factor), file_key)
        return Stanza(STANZA_TYPE, (b64.encode_raw(salt).decode(), str(self._work_factor)), body)


class ScryptIdentity:
    """A passphrase that may unwrap an scrypt stanza."""

    def __init__(self, passphrase: str, max_work_factor: int = MAX_WORK_FACTOR) -> None:
        self._passphrase = passphrase.encode()
        self._max_work_factor = max_work_factor

    def __repr__(self) -> str:
        return "ScryptIdentity(…)"

    def unwrap(self, stanza: Stanza) -> bytes | None:
        if stanza.type != STANZA_TYPE:
            return None
        if len(stanza.args) != 2:
            raise HeaderError("scrypt stanza must have exactly two arguments")
        salt = b64.decode_raw(stanza.args[0].encode())
        if salt is None or len(salt) != SALT_SIZE:
            raise HeaderError("scrypt stanza salt is not 16 bytes of canonical base64")
        if not _WORK_FACTOR.match(stanza.args[1]):
            raise HeaderError("scrypt stanza work factor is not a decimal number")
        work_factor = int(stanza.args[1])
        if work_factor > self._max_work_factor:
            raise HeaderError(f"scrypt work factor {work_factor} is above the limit")
        if len(stanza.body) != WRAPPED_KEY_SIZE:
            raise HeaderError("scrypt stanza body has the wrong size")
        return open_once(_wrap_key(self._passphrase, salt, work_factor), stanza.body)
