"""What every recipient and identity type provides to the encryptor and decryptor."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .format import Stanza

FILE_KEY_SIZE = 16


@runtime_checkable
class Recipient(Protocol):
    """Something a file key can be wrapped to."""

    #: Files for post-quantum recipients must not also go to classic ones: the
    #: classic stanza would be the weak link a future quantum computer breaks.
    post_quantum: bool
    #: A passphrase stanza must stand alone (age rejects it beside others).
    exclusive: bool

    def wrap(self, file_key: bytes) -> Stanza:
        """Wrap `file_key` in a fresh stanza."""
        ...


@runtime_checkable
class Identity(Protocol):
    """Something that can unwrap the file key from stanzas addressed to it."""

    def unwrap(self, stanza: Stanza) -> bytes | None:
        """Return the file key, None if the stanza is not for this identity.

        Raise HeaderError when the stanza is of this identity's type but
        malformed: such a file is invalid, not merely "not for us".
        """
        ...
