"""Encrypting and decrypting whole age files, as streams or as bytes.

Callers choose recipients and identities, never keys or nonces: the file key
and the payload nonce are drawn here, fresh for every file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType

from .armor_stream import ArmorReader, ArmorWriter, looks_armored
from .bufio import Readable, Source
from .errors import EncryptionError, HeaderError, MACError, NoIdentityMatchError
from .format import Header, encode_header, encode_mac_input, parse_header
from .primitives import hkdf_sha256, hmac_sha256, hmac_sha256_verify, random_bytes
from .recipients import FILE_KEY_SIZE, Identity, Recipient
from .stream import BytesLike, PayloadWriter, Writable, iter_plaintext

NONCE_SIZE = 16
HEADER_LABEL = b"header"
PAYLOAD_LABEL = b"payload"
_SCRYPT = "scrypt"


def _check_recipients(recipients: Sequence[Recipient]) -> None:
    if not recipients:
        raise EncryptionError("no recipients: a file needs at least one")
    if any(r.exclusive for r in recipients) and len(recipients) > 1:
        raise EncryptionError("a passphrase must be the only recipient of a file")
    if len({r.post_quantum for r in recipients if not r.exclusive}) > 1:
        raise EncryptionError(
            "refusing to mix post-quantum (age1pq1…) and classic (age1…) recipients: "
            "the classic key would be the weak link"
        )


class Encryptor:
    """A writable file object that encrypts into `sink`.

    `close()` writes the final chunk (and the armor's END line); without it
    the file is truncated and will not decrypt. The sink is not closed.
    """

    def __init__(self, sink: Writable, recipients: Iterable[Recipient], *, armor: bool = False):
        recipients = list(recipients)
        _check_recipients(recipients)
        file_key = random_bytes(FILE_KEY_SIZE)
        stanzas = [r.wrap(file_key) for r in recipients]
        mac = hmac_sha256(hkdf_sha256(file_key, b"", HEADER_LABEL), encode_mac_input(stanzas))
        self._armor = ArmorWriter(sink) if armor else None
        out: Writable = self._armor or sink
        nonce = random_bytes(NONCE_SIZE)
        out.write(encode_header(stanzas, mac) + nonce)
        self._payload = PayloadWriter(hkdf_sha256(file_key, nonce, PAYLOAD_LABEL), out)
        self.closed = False

    def write(self, data: BytesLike) -> int:
        return self._payload.write(data)

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if self.closed:
            return
        self._payload.close()
        if self._armor:
            self._armor.close()
        self.closed = True

    def __enter__(self) -> Encryptor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # On an exception the file is left unfinished on purpose: a truncated
        # file fails to decrypt instead of passing for a complete one.
        if exc_type is None:
            self.close()


def _unwrap_file_key(header: Header, identities: Sequence[Identity]) -> bytes:
    if any(s.type == _SCRYPT for s in header.stanzas) and len(header.stanzas) != 1:
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    for identity in identities:
        for stanza in header.stanzas:
            file_key = identity.unwrap(stanza)
            if file_key is not None:
                if len(file_key) != FILE_KEY_SIZE:
                    raise HeaderError("unwrapped file key has the wrong size")
                return file_key
    raise NoIdentityMatchError("no identity matched any of the file's recipients")


class Decryptor(io.RawIOBase):
    """A readable file object over a decrypted age file.

    The header, the identities and the header MAC are all checked before this
    object exists, so no plaintext is ever released from a file whose header
    is wrong. Payload errors surface from `read()` at the chunk that fails;
    what was returned before it did authenticate.
    """

    def __init__(
        self, source: Readable, identities: Iterable[Identity], *, armored: bool | None = None
    ) -> None:
        super().__init__()
        identities = list(identities)
        src = Source(source)
        if armored is None:
            armored = looks_armored(src.peek(1024 + len(b"-----")))
        if armored:
            src = Source(ArmorReader(src))
        header = parse_header(src)
        file_key = _unwrap_file_key(header, identities)
        hmac_key = hkdf_sha256(file_key, b"", HEADER_LABEL)
        if not hmac_sha256_verify(hmac_key, header.mac_input, header.mac):
            raise MACError("header MAC does not match: the header was tampered with")
        nonce = src.read(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise HeaderError("file ends before the payload nonce")
        self._chunks: Iterator[memoryview] | None = iter_plaintext(
            hkdf_sha256(file_key, nonce, PAYLOAD_LABEL), src
        )
        self._unread = memoryview(b"")
        self._error: BaseException | None = None

    def _next_chunk(self) -> memoryview | None:
        """The next chunk, None at the end; a failure is raised again on every later call.

        Otherwise a caller that caught a PayloadError and read on would see a
        clean end of file, and take a cut-off file for a whole one.
        """
        if self._error is not None:
            raise self._error
        if self._chunks is None:
            return None
        try:
            return next(self._chunks)
        except StopIteration:
            self._chunks = None
            return None
        except BaseException as exc:
            self._chunks = None
            self._error = exc
            raise

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._unread:
            chunk = self._next_chunk()
            if chunk is None:
                return 0
            self._unread = chunk
        n = min(len(buffer), len(self._unread))
        buffer[:n] = self._unread[:n]
        self._unread = self._unread[n:]
        return n

    def iter_chunks(self) -> Iterator[memoryview]:
        """Yield the plaintext as views of up to a megabyte each: no copy per read.

        A view stays valid after the next one is yielded; copy it with bytes()
        to keep it in a form that has string-like methods.
        """
        if self._unread:
            yield self._unread
            self._unread = memoryview(b"")
        while (chunk := self._next_chunk()) is not None:
            yield chunk


def encrypt(plaintext: bytes, recipients: Iterable[Recipient], *, armor: bool = False) -> bytes:
    """Encrypt a whole message in memory."""
    out = io.BytesIO()
    with Encryptor(out, recipients, armor=armor) as enc:
        enc.write(plaintext)
    return out.getvalue()


def decrypt(
    ciphertext: bytes, identities: Iterable[Identity], *, armored: bool | None = None
) -> bytes:
    """Decrypt a whole message in memory; raise a DecryptionError on any failure."""
    return b"".join(Decryptor(io.BytesIO(ciphertext), identities, armored=armored).iter_chunks())
