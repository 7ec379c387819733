"""Mutation testing: 10,000 random corruptions of valid files, decrypted with the right key.

Uploaded files are attacker-controlled, so the decryptor must turn every
malformed input into a DecryptionError (a clean "this file is damaged" for the
caseworker) and accept nothing it did not write. Each mutated file must either
raise a DecryptionError subclass or, only when the bytes are unchanged (or, for
armor, differ only in the CRLF and outer whitespace the armor reader ignores by
design), decrypt to the original plaintext. Any other exception, and any
success on changed bytes, is a bug.

The mutations mix blind byte edits (flips, insertions, deletions, truncations,
duplicated ranges) with format-aware ones (header-line edits, stanzas and
headers spliced from other files, reordered chunks); for armored files about
half are applied to the inner binary file and re-armored, so that they reach
the header and payload parsers behind a valid armor.
"""

from __future__ import annotations

import base64
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from crypto import (
    DecryptionError,
    MLKEM768X25519Identity,
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    decrypt,
    encrypt,
)
from crypto.recipients import Identity, Recipient

pytestmark = pytest.mark.slow

SEED = 20240517
TOTAL = 10_000
SEALED_CHUNK = 64 * 1024 + 16
BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
WHITESPACE = b" \t\r\n\v\f"
B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Bytes that matter to the parsers, so random insertions often stay "almost valid".
INTERESTING = B64_CHARS + b" \n\r\t-=>" + bytes([0, 0x7F, 0x80, 0xFF])


def b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def armor(binary: bytes) -> bytes:
    """The armor the encryptor writes, rebuilt here independently."""
    text = base64.b64encode(binary)
    lines = b"".join(text[i : i + 64] + b"\n" for i in range(0, len(text), 64))
    return BEGIN + b"\n" + lines + END + b"\n"


def armor_equivalent(a: bytes, b: bytes) -> bool:
    """Same armored file up to what the armor reader may ignore: CRLF, whitespace around it."""

    def canonical(x: bytes) -> bytes:
        return x.replace(b"\r\n", b"\n").strip(WHITESPACE)

    return canonical(a) == canonical(b)


def split_header(binary: bytes) -> tuple[list[bytes], bytes]:
    """The header's lines (without LF, MAC line last) and everything after it."""
    mac_line = binary.index(b"\n--- ") + 1
    end = binary.index(b"\n", mac_line) + 1
    return binary[:end].split(b"\n")[:-1], binary[end:]


def join_header(lines: Sequence[bytes], rest: bytes) -> bytes:
    return b"".join(line + b"\n" for line in lines) + rest


def stanzas(lines: list[bytes]) -> list[tuple[int, int]]:
    """(first, end) line ranges of the stanzas in a header."""
    starts = [i for i, line in enumerate(lines) if line.startswith(b"-> ")]
    return [
        (s, (starts[k + 1] if k + 1 < len(starts) else len(lines) - 1))
        for k, s in enumerate(starts)
    ]


@dataclass(frozen=True)
class Target:
    """A valid file, the identities that open it, and how many mutants it gets."""

    name: str
    plaintext: bytes
    identities: tuple[Identity, ...]
    binary: bytes  # the age file itself (inside the armor, if armored)
    armored: bool
    donors: tuple[bytes, ...]  # other valid binary files, for splicing
    count: int

    @property
    def ciphertext(self) -> bytes:
        return armor(self.binary) if self.armored else self.binary


def data_of(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def make_targets() -> list[Target]:
    """A handful of files; cheap ones get more of the 10,000 mutants."""
    x = X25519Identity.generate()
    other_x = X25519Identity.generate()
    pq = MLKEM768X25519Identity.generate()
    scrypt_id = ScryptIdentity("mutation passphrase", max_work_factor=10)
    scrypt_to = ScryptRecipient("mutation passphrase", work_factor=8)

    def binary(size: int, recipients: list[Recipient]) -> bytes:
        return encrypt(data_of(size), recipients)

    x_donors = (
        binary(100, [x.recipient]),
        binary(200_000, [x.recipient]),
        binary(10, [other_x.recipient]),
        binary(10, [pq.recipient]),
        binary(10, [other_x.recipient, x.recipient]),
    )
    pq_donors = (binary(100, [pq.recipient]), binary(10, [x.recipient]))
    specs: list[
        tuple[str, int, list[Recipient], tuple[Identity, ...], bool, tuple[bytes, ...], int]
    ] = [
        ("x25519-100B", 100, [x.recipient], (x,), False, x_donors, 2200),
        ("x25519-empty", 0, [x.recipient], (x,), False, x_donors, 1300),
        ("x25519-140KiB", 140 * 1024, [x.recipient], (x,), False, x_donors, 1500),
        (
            "x25519-2-recipients",
            300,
            [other_x.recipient, x.recipient],
            (pq, x),
            False,
            x_donors,
            1200,
        ),
        ("x25519-100B-armor", 100, [x.recipient], (x,), True, x_donors, 1200),
        ("x25519-140KiB-armor", 140 * 1024, [x.recipient], (x,), True, x_donors, 300),
        ("pq-100B", 100, [pq.recipient], (pq,), False, pq_donors, 1100),
        ("pq-empty-armor", 0, [pq.recipient], (pq,), True, pq_donors, 400),
        ("pq-140KiB", 140 * 1024, [pq.recipient], (pq,), False, pq_donors, 300),
        ("scrypt-100B", 100, [scrypt_to], (scrypt_id,), False, x_donors, 500),
    ]
    targets = []
    for name, size, recipients, identities, armored, donors, count in specs:
        data = data_of(size)
        file = encrypt(data, recipients)
        targets.append(Target(name, data, identities, file, armored, donors, count))
    assert sum(t.count for t in targets) == TOTAL
    return targets


TARGET_NAMES = [
    "x25519-100B",
    "x25519-empty",
    "x25519-140KiB",
    "x25519-2-recipients",
    "x25519-100B-armor",
    "x25519-140KiB-armor",
    "pq-100B",
    "pq-empty-armor",
    "pq-140KiB",
    "scrypt-100B",
]


@pytest.fixture(scope="module")
def targets() -> dict[str, Target]:
    made = {t.name: t for t in make_targets()}
    assert list(made) == TARGET_NAMES
    return made


# --- the mutation operators --------------------------------------------------------------


class Mutator:
    """Draws one random mutation of a file and describes it."""

    def __init__(self, rng: random.Random, target: Target) -> None:
        self.rng = rng
        self.target = target

    def some_bytes(self, max_len: int = 16) -> bytes:
        n = self.rng.randint(1, max_len)
        if self.rng.random() < 0.5:
            return bytes(self.rng.choice(INTERESTING) for _ in range(n))
        return self.rng.randbytes(n)

    def position(self, data: bytes, header_len: int) -> int:
        """Half the time in the header, where most of the parsing is."""
        if self.rng.random() < 0.5:
            return self.rng.randrange(max(1, min(header_len, len(data))))
        return self.rng.randrange(len(data))

    # Blind byte-level edits: valid for armored text and for binary files alike.

    def byte_edit(self, data: bytes, header_len: int) -> tuple[str, bytes]:
        rng = self.rng
        op = rng.choice(
            [
                "flip",
                "set",
                "insert",
                "delete",
                "truncate",
                "duplicate",
                "append",
                "prepend",
                "swap",
            ]
        )
        pos = self.position(data, header_len)
        if op == "flip":
            bit = rng.randrange(8)
            return f"flip bit {bit} of byte {pos}", data[:pos] + bytes(
                [data[pos] ^ 1 << bit]
            ) + data[pos + 1 :]
        if op == "set":
            value = rng.randrange(256)
            return f"set byte {pos} to {value:#04x}", data[:pos] + bytes([value]) + data[pos + 1 :]
        if op == "insert":
            extra = self.some_bytes()
            return f"insert {extra!r} at {pos}", data[:pos] + extra + data[pos:]
        if op == "delete":
            n = rng.choice([1, 1, 2, 3, 4, rng.randint(1, 64), rng.randint(1, 70_000)])
            return f"delete {n} bytes at {pos}", data[:pos] + data[pos + n :]
        if op == "truncate":
            return f"truncate to {pos} of {len(data)} bytes", data[:pos]
        if op == "duplicate":
            n = rng.choice([1, rng.randint(1, 100), rng.randint(1, 70_000)])
            dest = self.position(data, header_len)
            piece = data[pos : pos + n]
            return f"copy {len(piece)} bytes from {pos} to {dest}", data[:dest] + piece + data[
                dest:
            ]
        if op == "append":
            extra = self.some_bytes(rng.choice([4, 64, 2000]))
            return f"append {len(extra)} bytes {extra[:20]!r}", data + extra
        if op == "prepend":
            extra = self.some_bytes(rng.choice([4, 64]))
            return f"prepend {extra!r}", extra + data
        n = rng.randint(1, 64)
        a, b = sorted((pos, self.position(data, header_len)))
        b = max(b, a + n)
        swapped = data[:a] + data[b : b + n] + data[a + n : b] + data[a : a + n] + data[b + n :]
        return f"swap {n} bytes at {a} and {b}", swapped

    # Format-aware edits of the binary file.

    def header_edit(self, binary: bytes) -> tuple[str, bytes]:
        rng = self.rng
        lines, rest = split_header(binary)
        i = rng.randrange(len(lines))
        line = lines[i]
        nxt = lines[i + 1 : i + 2]
        # Each edit gives the lines that take the place of line i.
        local: list[tuple[str, Callable[[], list[bytes]]]] = [
            ("delete line", lambda: []),
            ("duplicate line", lambda: [line, line]),
            ("CRLF", lambda: [line + b"\r"]),
            ("trailing space", lambda: [line + b" "]),
            ("double a space", lambda: [line.replace(b" ", b"  ", 1)]),
            ("empty line after", lambda: [line, b""]),
            ("swap case", lambda: [line.swapcase()]),
            ("replace a token", lambda: [self.replace_token(line)]),
            ("add an argument", lambda: [line + b" " + b64(rng.randbytes(rng.randint(1, 40)))]),
            ("drop last token", lambda: [line.rsplit(b" ", 1)[0]]),
            ("non-canonical base64", lambda: [self.noncanonical(line)]),
            ("split line", lambda: [line[: len(line) // 2], line[len(line) // 2 :]]),
            (
                "grease stanza before",
                lambda: [*self.grease(), line] if i else [line, *self.grease()],
            ),
            ("64-column body", lambda: [b64(rng.randbytes(48))]),
        ]
        whole: list[tuple[str, Callable[[], list[bytes]]]] = [
            ("swap with next line", lambda: [*lines[:i], *nxt, line, *lines[i + 2 :]]),
            ("version v2", lambda: [b"age-encryption.org/v2", *lines[1:]]),
            ("random MAC", lambda: [*lines[:-1], b"--- " + b64(rng.randbytes(32))]),
            ("padded MAC", lambda: [*lines[:-1], lines[-1] + b"="]),
        ]
        k = rng.randrange(len(local) + len(whole))
        name, edit = (local + whole)[k]
        new = [*lines[:i], *edit(), *lines[i + 1 :]] if k < len(local) else edit()
        return f"header: {name} (line {i}: {line[:40]!r})", join_header(new, rest)

    def replace_token(self, line: bytes) -> bytes:
        rng = self.rng
        tokens = line.split(b" ")
        j = rng.randrange(len(tokens))
        old = tokens[j]
        choice = rng.randrange(5)
        if choice == 0:  # same size, new random value (e.g. another X25519 share)
            new = b64(rng.randbytes(len(old) * 3 // 4)) if old else b"A"
        elif choice == 1:  # one byte longer or shorter
            size = max(0, len(old) * 3 // 4 + rng.choice([-1, 1]))
            new = b64(rng.randbytes(size))
        elif choice == 2:  # a low-order X25519 point: the all-zero share
            new = b64(bytes(32))
        elif choice == 3:  # scrypt work factors, valid or not
            new = rng.choice(
                [b"1", b"9", b"10", b"11", b"08", b"0", b"-1", b"99999999999999999999"]
            )
        else:
            new = rng.choice(
                [b"X25519", b"x25519", b"scrypt", b"mlkem768x25519", b"grease", b"->", b"---"]
            )
        tokens[j] = new
        return b" ".join(tokens)

    def noncanonical(self, line: bytes) -> bytes:
        """Flip the lowest bit of the last base64 character: in canonical base64 it is unused."""
        token = line.rsplit(b" ", 1)[-1]
        if not token or len(token) % 4 == 0 or token[-1] not in B64_CHARS:
            return line + b"A"
        return line[:-1] + bytes([B64_CHARS[B64_CHARS.index(token[-1]) ^ 1]])

    def grease(self) -> list[bytes]:
        rng = self.rng
        name = b"grease-" + b64(rng.randbytes(3)).replace(b"/", b"_")
        return [
            b"-> " + name + b" " + b64(rng.randbytes(5)),
            b64(rng.randbytes(rng.randint(0, 47))),
        ]

    def splice(self, binary: bytes) -> tuple[str, bytes]:
        rng = self.rng
        donor_index = rng.randrange(len(self.target.donors))
        donor = self.target.donors[donor_index]
        lines, rest = split_header(binary)
        donor_lines, donor_rest = split_header(donor)
        op = rng.randrange(4)
        if op == 0:
            return f"donor {donor_index}'s header, our payload", join_header(donor_lines, rest)
        if op == 1:
            return f"our header, donor {donor_index}'s payload", join_header(lines, donor_rest)
        ours, theirs = rng.choice(stanzas(lines)), rng.choice(stanzas(donor_lines))
        donor_stanza = donor_lines[theirs[0] : theirs[1]]
        if op == 2:
            new = lines[: ours[0]] + donor_stanza + lines[ours[1] :]
            return f"stanza from donor {donor_index} replaces ours", join_header(new, rest)
        new = lines[: ours[0]] + donor_stanza + lines[ours[0] :]
        return f"stanza from donor {donor_index} added", join_header(new, rest)

    def chunk_edit(self, binary: bytes) -> tuple[str, bytes]:
        rng = self.rng
        lines, rest = split_header(binary)
        nonce, payload = rest[:16], rest[16:]
        chunks = [payload[i : i + SEALED_CHUNK] for i in range(0, len(payload), SEALED_CHUNK)]
        op = rng.randrange(5)
        if op == 0:
            new_nonce = rng.randbytes(16)
            return "new payload nonce", join_header(lines, new_nonce + payload)
        if op == 1 and len(chunks) > 1:
            a, b = rng.sample(range(len(chunks)), 2)
            chunks[a], chunks[b] = chunks[b], chunks[a]
            return f"swap chunks {a} and {b}", join_header(lines, nonce + b"".join(chunks))
        if op == 2 and len(chunks) > 1:
            k = rng.randrange(len(chunks))
            del chunks[k]
            return f"drop chunk {k}", join_header(lines, nonce + b"".join(chunks))
        k = rng.randrange(len(chunks))
        chunks.insert(k, chunks[k])
        return f"duplicate chunk {k}", join_header(lines, nonce + b"".join(chunks))

    def binary_edit(self, binary: bytes) -> tuple[str, bytes]:
        header_len = len(b"\n".join(split_header(binary)[0])) + 1
        kind = self.rng.choices(["bytes", "header", "splice", "chunks"], weights=[5, 4, 1, 1])[0]
        if kind == "header":
            return self.header_edit(binary)
        if kind == "splice":
            return self.splice(binary)
        if kind == "chunks":
            return self.chunk_edit(binary)
        return self.byte_edit(binary, header_len)

    def mutate(self) -> tuple[str, bytes]:
        target = self.target
        if not target.armored:
            return self.binary_edit(target.binary)
        if self.rng.random() < 0.5:
            what, inner = self.binary_edit(target.binary)
            return f"inside the armor: {what}", armor(inner)
        header_len = (
            len(BEGIN) + 1 + (len(b"\n".join(split_header(target.binary)[0])) // 48 + 1) * 65
        )
        text = target.ciphertext
        if self.rng.random() < 0.2:
            return self.armor_line_edit(text)
        return self.byte_edit(text, header_len)

    def armor_line_edit(self, text: bytes) -> tuple[str, bytes]:
        rng = self.rng
        lines = text.split(b"\n")[:-1]
        i = rng.randrange(len(lines))
        line = lines[i]
        first, data, last = lines[0], lines[1:-1], lines[-1]
        ops: list[tuple[str, list[bytes]]] = [
            ("delete line", [*lines[:i], *lines[i + 1 :]]),
            ("duplicate line", [*lines[: i + 1], *lines[i:]]),
            ("empty line after", [*lines[: i + 1], b"", *lines[i + 1 :]]),
            ("lowercase", [*lines[:i], line.lower(), *lines[i + 1 :]]),
            ("space inside", [*lines[:i], line[:10] + b" " + line[10:], *lines[i + 1 :]]),
            ("rewrap at 76 columns", [first, *_rewrap(b"".join(data), 76), last]),
            ("header line after BEGIN", [first, b"Comment: hi", b"", *data, last]),
            ("PGP checksum", [first, *data, b"=AAAA", last]),
            ("drop padding", [first, *data[:-1], data[-1].rstrip(b"="), last]),
        ]
        name, new = rng.choice(ops)
        return f"armor: {name} (line {i})", b"".join(x + b"\n" for x in new)


def _rewrap(encoded: bytes, width: int) -> list[bytes]:
    return [encoded[i : i + width] for i in range(0, len(encoded), width)]


# --- the test ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_mutations_raise_decryption_error_or_are_harmless(
    targets: dict[str, Target], name: str
) -> None:
    target = targets[name]
    assert decrypt(target.ciphertext, target.identities) == target.plaintext
    rng = random.Random(f"{SEED}-{target.name}")
    mutator = Mutator(rng, target)
    original = target.ciphertext
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    for n in range(target.count):
        what, mutated = mutator.mutate()
        try:
            got = decrypt(mutated, target.identities)
        except DecryptionError as exc:
            outcome = type(exc).__name__
            if mutated == original:
                problems.append(f"#{n} {what}: unchanged file rejected: {exc!r}")
        except Exception as exc:  # anything else is the bug this test looks for
            outcome = f"UNEXPECTED {type(exc).__name__}"
            problems.append(f"#{n} {what}: raised {exc!r}")
        else:
            if mutated == original:
                outcome = "success (unchanged)"
            elif target.armored and armor_equivalent(mutated, original):
                outcome = "success (same armor up to CRLF/outer whitespace)"
            else:
                outcome = "ACCEPTED A MODIFIED FILE"
                problems.append(f"#{n} {what}: decrypted although changed")
            if got != target.plaintext:
                problems.append(f"#{n} {what}: decrypted to a different plaintext")
        outcomes[outcome] += 1
    summary = ", ".join(f"{name}: {count}" for name, count in outcomes.most_common())
    print(f"{target.name}: {target.count} mutations -> {summary}")
    assert not problems, f"{len(problems)} bad outcomes ({summary}):\n" + "\n".join(problems[:25])
    # The mutations must reach every layer, or the test would prove little.
    expected = {"HeaderError", "MACError", "PayloadError", "NoIdentityMatchError"}
    if target.armored:
        expected.add("ArmorError")
    assert expected <= set(outcomes), f"layers never reached: {expected - set(outcomes)}"


def test_corrupt_armor_is_rejected_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """One bad character deep inside a large armored upload must not cost quadratic work.

    Rejecting a damaged file should cost about as much as reading a good one;
    otherwise one stray byte in a 1 MB upload ties up a worker for many seconds.
    Work is counted as bytes handed to the base64 decoder, not as time: the
    machines are shared and noisy, the count is exact.
    """
    import crypto.armor_stream

    decoded = 0
    real_decode = crypto.armor_stream.base64.b64decode

    def counting_decode(text: bytes, *args: object, **kwargs: object) -> bytes:
        nonlocal decoded
        decoded += len(text)
        return real_decode(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto.armor_stream.base64, "b64decode", counting_decode)
    identity = X25519Identity.generate()
    armored = bytearray(encrypt(data_of(256 * 1024), [identity.recipient], armor=True))
    bad_line = 4000  # of about 5,600 data lines
    armored[len(BEGIN) + 1 + bad_line * 65 + 10] = ord("*")
    with pytest.raises(DecryptionError):
        decrypt(bytes(armored), [identity])
    assert decoded <= 2 * len(armored), f"decoded {decoded} bytes for a {len(armored)}-byte file"
