"""Keys, identity files and recipients files.

Keys are what users copy and paste, so parsing must round-trip exactly, reject
typos (Bech32 checksum) and confusions (a secret key pasted where a public one
belongs), and never put a secret key into an error message or a repr, where it
would end up in logs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

import crypto
from crypto import (
    KeyFormatError,
    MLKEM768X25519Identity,
    MLKEM768X25519Recipient,
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    X25519Recipient,
    bech32,
    generate_identity,
    identity_file_text,
    parse_identities,
    parse_identity,
    parse_recipient,
    parse_recipients,
)

# From the age spec (C2SP age.md): "The X25519 recipient type".
SPEC_X25519_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_X25519_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
# From the age spec: "The MLKEM768-X25519 (i.e. X-Wing) hybrid post-quantum recipient type".
SPEC_PQ_IDENTITY = "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR"
SPEC_PQ_RECIPIENT = (
    "age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87pzf5zrqtzdxz95paef6caq5aapdmwj"
    "jqpjfdyxnzr2zampc3uxy0dg4z2n2gm9su72p0pc3u0jvev55l694v78snxg3yzvcl7yda0eyytqj6a0ec477lnhcy5"
    "hzpz4zq3pxanve4cn62gqj3pjy5lqj9c6kyj4v2z8alktn8zh99970x79gjkv7522hv9kfz35zsnxhsx8wwtmu9cy3f"
    "tzjgwcp4sshn3llnylnpdsyz5jm72vefv4x5vfwytrefxg4wq3mv42wcrvkj742479zrxzpvp2p3e9fed9f0739vcu8"
    "0r7ma28qfhnvlv4gfzel9q654dj3zmuvvz893azhxdvs9fxd0r7jzchzcfcs5mkyyjxhw0n2z6dvp9yn9qfdp29h0a"
    "zxqyjw6v7fhyuzj7zel0uq6j9rd7wgrpz7mf5dnj43jwsgvrc8qcnhy7tu6dkdujuxzkp9xj43xe8h92ktre2a3u3s8"
    "mm5mrp9nr9pwkgtz4mdlq9hgn4fps4k57ff6wddn2fy23t47sm20r8km8sd2pcyyafnet8f0dajsrlyjeah4n3mssr6"
    "aseevuuskdvq5lzguyvpgwpta742c6698vgutzqgny8usfg0w2he7kq5vyxjd0f9hqg8xk26y9e4th0gezq92q4cpp5"
    "p2y9hf5f2cje5l0c3sa3a2qxmm38pxxvhxh99yzmfz0zk7r2s64nnwjhkfgfr3gf8xnmppcgmaykvh5sh6g7vk9790r"
    "f8ws0axmr2t7z8aae5fq2029uvcn2ghgt4fu4wgwdc0k0cz52qkvwmuzj8p8k5jgf3xzk5zmrkavjekjrpeq408xz3z"
    "xazwkc6tyfmhayrkfpjhwtz5mp8j8guqe43k2q6m2kte03vrw27y3wmqyu5etmt9dnkwcnnpmu9gz9dekfhdevf42uc"
    "shphnrk38ra6hx8w5f8q5ru0xdhrjxmwqf6cused7zc5xvq43r0zscjglpwlptpwydhqw64xz7ptjdyeyzpq2zkxtmz"
    "g29gzjpvzva4d3l0cenn9xs297wf4y4ukwrunf57xj6pm7nvrkwvtrt8hwcmgv8x7ajw7258ugf9wvkmk4052ekg87t"
    "w5vnx8nq2swyzv77v8yqlwsenvamr0zssknwts8rrhfuwj7ykysnq9jxy0uv3kuyt22djszjdtvpz6d0s0kwh8ryynd"
    "dzud92emeyvvyqktd0jtj7rvvg5gch25v8smlvny3kvn5gagyz475ze2y6q466xqmz2n3hs77lddeqyta2nch5k2u5y"
    "acuk9ywnwfdzvyejnucz724hj77hrrmakm7pr3kxsrxq22ejexlud9fy2kdqmkg5yncz7jm5wv2qjk5w5kvcpqsry2y"
    "qffh2la52dxfjkjq5rzhjzeyn6dupn0qwtyv7s4lwg3xdarsdlwe2y3tujy480y7z39q259fzx6jhd2j0f5hagqpcpe"
    "es7hzc2yrk5cy788uk3s7qvp5cpepx24gvws3m2g433exgwppnkjscec8qu4y9z9r7vccexjcjaen42245lmgmxmuav"
    "g9alej92322gvvyy2t6267v09ch64y0m53jff0vjj96s0ypk60hr3jw4myd6m5hpn3xjstx7tl2szhpr5qe8jj08ydj"
    "c4wy2rch2fhuy3pdfjax5awe9j99ly5hkntzz9fe5zatgjvzdd0kgtxs25njnajyf6ssekp7gelxquusn4pt25czh3s"
    "cj68kq79wdn5tgm6yvm9nzavrg043x3msnygf8dweknw5jmqd0uvny6ttsn09508k0c55zfnegrm9efhxpfqdkmhh6g"
    "jtqmwze9pyyzk3tlhl53k2ykx3qheyty7saeq0d3fzv49zc0k"
)

GENERATORS: dict[str, Callable[[], X25519Identity | MLKEM768X25519Identity]] = {
    "x25519": X25519Identity.generate,
    "pq": MLKEM768X25519Identity.generate,
}


def secret_fragments(secret: str) -> list[str]:
    """Pieces of a secret key that must not appear in messages: whole, either case, data part."""
    data = secret[secret.rindex("1") + 1 :]
    return [secret, secret.lower(), data, data.lower(), data[:20], data[:20].lower()]


def assert_no_secret(message: str, secret: str) -> None:
    for fragment in secret_fragments(secret):
        assert fragment not in message, f"secret leaked into {message!r}"


def flip_case(text: str, index: int) -> str:
    return text[:index] + text[index].swapcase() + text[index + 1 :]


def change_char(text: str, index: int) -> str:
    """Replace one data character by another valid Bech32 character of the same case."""
    char = text[index]
    new = "q" if char.lower() != "q" else "p"
    return text[:index] + (new.upper() if char.isupper() else new) + text[index + 1 :]


# --- the spec's examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "recipient"),
    [
        pytest.param(SPEC_X25519_IDENTITY, SPEC_X25519_RECIPIENT, id="x25519"),
        pytest.param(SPEC_PQ_IDENTITY, SPEC_PQ_RECIPIENT, id="mlkem768x25519"),
    ],
)
def test_spec_identity_gives_spec_recipient(identity: str, recipient: str) -> None:
    """Our key derivation matches the spec's worked examples exactly."""
    parsed = parse_identity(identity)
    assert str(parsed.recipient) == recipient
    assert str(parsed) == identity
    assert parse_recipient(recipient) == parsed.recipient
    assert str(parse_recipient(recipient)) == recipient


def test_spec_pq_recipient_shape() -> None:
    """The PQ recipient is 1216 bytes behind the `age1pq1` prefix: far past Bech32's 90 chars."""
    assert SPEC_PQ_RECIPIENT.startswith(
        "age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87"
    )
    hrp, data = bech32.decode(SPEC_PQ_RECIPIENT)
    assert (hrp, len(data)) == ("age1pq", 1216)
    assert len(SPEC_PQ_RECIPIENT) == 1959


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (SPEC_X25519_IDENTITY, X25519Identity),
        (SPEC_PQ_IDENTITY, MLKEM768X25519Identity),
        (f"  {SPEC_X25519_IDENTITY}\n", X25519Identity),
    ],
)
def test_parse_identity_picks_the_type(text: str, kind: type) -> None:
    assert isinstance(parse_identity(text), kind)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (SPEC_X25519_RECIPIENT, X25519Recipient),
        (SPEC_PQ_RECIPIENT, MLKEM768X25519Recipient),
        (f"\t{SPEC_X25519_RECIPIENT} \n", X25519Recipient),
    ],
)
def test_parse_recipient_picks_the_type(text: str, kind: type) -> None:
    assert isinstance(parse_recipient(text), kind)


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("kind", GENERATORS)
def test_generated_keys_round_trip(kind: str) -> None:
    """str() then parse gives the same key back, for identities and recipients."""
    for _ in range(5):
        identity = GENERATORS[kind]()
        text = str(identity)
        assert text == text.upper()
        assert text.startswith("AGE-SECRET-KEY-PQ-1" if kind == "pq" else "AGE-SECRET-KEY-1")
        again = parse_identity(text)
        assert type(again) is type(identity)
        assert str(again) == text
        assert again.recipient == identity.recipient
        recipient_text = str(identity.recipient)
        assert recipient_text == recipient_text.lower()
        assert recipient_text.startswith("age1pq1" if kind == "pq" else "age1")
        assert parse_recipient(recipient_text) == identity.recipient
        assert hash(parse_recipient(recipient_text)) == hash(identity.recipient)


def test_generated_identities_are_distinct() -> None:
    for kind in GENERATORS:
        assert len({str(GENERATORS[kind]()) for _ in range(20)}) == 20


@pytest.mark.parametrize(
    ("post_quantum", "kind"), [(True, MLKEM768X25519Identity), (False, X25519Identity)]
)
def test_generate_identity_defaults_to_post_quantum(post_quantum: bool, kind: type) -> None:
    assert isinstance(generate_identity(post_quantum=post_quantum), kind)
    assert isinstance(generate_identity(), MLKEM768X25519Identity)


def test_bech32_round_trips_any_length() -> None:
    """No 90-character limit, and every length of data survives encode/decode."""
    for length in [0, 1, 2, 31, 32, 33, 100, 1216, 5000]:
        data = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
        assert bech32.decode(bech32.encode("age", data)) == ("age", data)


# --- rejections -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (flip_case(SPEC_X25519_IDENTITY, 20), "mixed case"),
        (flip_case(SPEC_X25519_IDENTITY, 0), "mixed case in the HRP"),
        (change_char(SPEC_X25519_IDENTITY, 30), "typo in the data"),
        (change_char(SPEC_X25519_IDENTITY, len(SPEC_X25519_IDENTITY) - 1), "typo in the checksum"),
        (SPEC_X25519_IDENTITY[:-1], "missing a character"),
        (SPEC_X25519_IDENTITY + "Q", "one character too many"),
        (SPEC_X25519_IDENTITY.replace("GFPQ", "GFBQ"), "character outside the Bech32 set"),
        (flip_case(SPEC_PQ_IDENTITY, 40), "PQ mixed case"),
        (change_char(SPEC_PQ_IDENTITY, 30), "PQ typo"),
        (bech32.encode("age-secret-key-", bytes(31)).upper(), "31-byte X25519 identity"),
        (bech32.encode("age-secret-key-", bytes(33)).upper(), "33-byte X25519 identity"),
        (bech32.encode("age-secret-key-pq-", bytes(64)).upper(), "64-byte PQ seed"),
        (bech32.encode("age-secret-key-x-", bytes(32)).upper(), "unknown HRP"),
        (SPEC_X25519_RECIPIENT, "a recipient, not an identity"),
        (SPEC_PQ_RECIPIENT, "a PQ recipient, not an identity"),
        ("AGE-SECRET-KEY-1", "no data"),
        ("AGE-PLUGIN-YUBIKEY-1QQQQQQ", "plugin identity"),
        ("", "empty"),
        ("not a key", "garbage"),
        (SPEC_X25519_IDENTITY.replace("-1", "-1\u00e9", 1), "non-ASCII"),
    ],
)
def test_parse_identity_rejects(text: str, why: str) -> None:
    """Every malformed identity is a KeyFormatError that does not echo the secret back."""
    with pytest.raises(KeyFormatError) as info:
        parse_identity(text)
    if text.upper().startswith("AGE-SECRET-KEY-") and len(text) > 30:
        assert_no_secret(str(info.value), text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (flip_case(SPEC_X25519_RECIPIENT, 10), "mixed case"),
        (change_char(SPEC_X25519_RECIPIENT, 10), "typo in the data"),
        (change_char(SPEC_X25519_RECIPIENT, len(SPEC_X25519_RECIPIENT) - 1), "typo in checksum"),
        (SPEC_X25519_RECIPIENT[:-1], "missing a character"),
        (change_char(SPEC_PQ_RECIPIENT, 1000), "PQ typo"),
        (flip_case(SPEC_PQ_RECIPIENT, 1000), "PQ mixed case"),
        (bech32.encode("age", bytes(31)), "31-byte X25519 recipient"),
        (bech32.encode("age", bytes(1216)), "PQ-sized data under the X25519 HRP"),
        (bech32.encode("age1pq", bytes(32)), "X25519-sized data under the PQ HRP"),
        (bech32.encode("age1pq", b"\xff" * 1216), "invalid ML-KEM public key"),
        (bech32.encode("agx", bytes(32)), "wrong HRP"),
        (bech32.encode("age1tag", bytes(33)), "tagged recipient (age >= 1.3, not supported)"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample", "SSH key"),
        ("", "empty"),
    ],
)
def test_parse_recipient_rejects(text: str, why: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_recipient(text)


def to_5bit(data: bytes) -> list[int]:
    bits = "".join(f"{b:08b}" for b in data)
    bits += "0" * (-len(bits) % 5)
    return [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]


def bech32_from_5bit(hrp: str, values: list[int]) -> str:
    """BIP-173's reference encoder over raw 5-bit groups, written apart from crypto.bech32."""
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    for value in [*expanded, *values, 0, 0, 0, 0, 0, 0]:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                chk ^= generator[i]
    chk ^= 1
    return (
        hrp
        + "1"
        + "".join(charset[v] for v in values + [(chk >> 5 * (5 - i)) & 31 for i in range(6)])
    )


def test_independent_bech32_encoder_agrees() -> None:
    _, data = bech32.decode(SPEC_X25519_RECIPIENT)
    assert bech32_from_5bit("age", to_5bit(data)) == SPEC_X25519_RECIPIENT


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda v: [*v[:-1], v[-1] | 1], id="non-zero padding bits"),
        pytest.param(lambda v: [*v, 0], id="a whole extra 5-bit group"),
    ],
)
def test_non_canonical_bech32_data_is_rejected(change: Callable[[list[int]], list[int]]) -> None:
    """Valid checksum but padding that a canonical encoder never writes: one key, one string."""
    _, data = bech32.decode(SPEC_X25519_RECIPIENT)
    with pytest.raises(KeyFormatError):
        parse_recipient(bech32_from_5bit("age", change(to_5bit(data))))
    _, secret = bech32.decode(SPEC_X25519_IDENTITY)
    text = bech32_from_5bit("age-secret-key-", change(to_5bit(secret))).upper()
    with pytest.raises(KeyFormatError) as info:
        parse_identity(text)
    assert_no_secret(str(info.value), text)


@pytest.mark.parametrize(
    "secret",
    [
        SPEC_X25519_IDENTITY,
        SPEC_PQ_IDENTITY,
        SPEC_X25519_IDENTITY.lower(),
        f"  {SPEC_PQ_IDENTITY}  ",
        change_char(SPEC_X25519_IDENTITY, 30),
    ],
)
def test_secret_key_as_recipient_is_refused_without_echo(secret: str) -> None:
    """Pasting a secret key where a public key goes is refused, and the secret is not repeated."""
    with pytest.raises(KeyFormatError) as info:
        parse_recipient(secret)
    assert "secret key" in str(info.value)
    assert_no_secret(str(info.value), secret.strip())


def test_secret_key_in_recipients_file_is_refused_without_echo() -> None:
    text = f"{SPEC_X25519_RECIPIENT}\n{SPEC_X25519_IDENTITY}\n"
    with pytest.raises(KeyFormatError, match="line 2") as info:
        parse_recipients(text)
    assert_no_secret(str(info.value), SPEC_X25519_IDENTITY)


# --- identity files ---------------------------------------------------------------


def test_identity_file_text_is_age_keygen_format() -> None:
    identity = parse_identity(SPEC_X25519_IDENTITY)
    created = datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    assert identity_file_text(identity, created=created) == (
        "# created: 2024-01-02T03:04:05Z\n"
        f"# public key: {SPEC_X25519_RECIPIENT}\n"
        f"{SPEC_X25519_IDENTITY}\n"
    )


def test_identity_file_text_keeps_a_non_utc_offset() -> None:
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    text = identity_file_text(parse_identity(SPEC_X25519_IDENTITY), created=created)
    assert text.startswith("# created: 2024-01-02T03:04:05+02:00\n")


@pytest.mark.parametrize("kind", GENERATORS)
def test_identity_file_text_round_trips(kind: str) -> None:
    identity = GENERATORS[kind]()
    [parsed] = parse_identities(identity_file_text(identity))
    assert str(parsed) == str(identity)
    assert parsed.recipient == identity.recipient


def test_identity_file_with_comments_blank_lines_and_mixed_types() -> None:
    """Comments, blank lines, CRLF and indentation are skipped; keys keep their order."""
    pq = MLKEM768X25519Identity.generate()
    x = X25519Identity.generate()
    text = (
        identity_file_text(parse_identity(SPEC_X25519_IDENTITY))
        + "\n\n# a post-quantum key\r\n"
        + f"{pq}\r\n"
        + "   \n"
        + "\t# indented comment\n"
        + f"  {x}  \n"
        + SPEC_PQ_IDENTITY  # no final newline
    )
    parsed = parse_identities(text)
    assert [str(i) for i in parsed] == [SPEC_X25519_IDENTITY, str(pq), str(x), SPEC_PQ_IDENTITY]
    assert [type(i) for i in parsed] == [
        X25519Identity,
        MLKEM768X25519Identity,
        X25519Identity,
        MLKEM768X25519Identity,
    ]


@pytest.mark.parametrize(
    ("bad_line", "why"),
    [
        (change_char(SPEC_X25519_IDENTITY, 30), "typo in a secret key"),
        (flip_case(SPEC_PQ_IDENTITY, 40), "mixed case PQ secret key"),
        (SPEC_X25519_IDENTITY + " # trailing comment", "comment after the key"),
        (SPEC_X25519_IDENTITY[:-1], "truncated secret key"),
        ("AGE-SECRET-KEY-PQ-" + SPEC_X25519_IDENTITY[15:], "X25519 data under the PQ HRP"),
    ],
)
def test_identity_file_error_names_the_line_but_not_the_secret(bad_line: str, why: str) -> None:
    text = f"# created: 2024-01-01T00:00:00Z\n{SPEC_X25519_IDENTITY}\n\n{bad_line}\n"
    with pytest.raises(KeyFormatError) as info:
        parse_identities(text)
    message = str(info.value)
    assert message.startswith("line 4:")
    assert_no_secret(message, bad_line.split(" ")[0])
    assert_no_secret(message, SPEC_X25519_IDENTITY)


def test_identity_file_with_a_recipient_line_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="line 2"):
        parse_identities(f"{SPEC_X25519_IDENTITY}\n{SPEC_X25519_RECIPIENT}\n")


@pytest.mark.parametrize("text", ["", "\n\n", "# created: 2024-01-01T00:00:00Z\n# only comments\n"])
def test_identity_file_without_keys_is_refused(text: str) -> None:
    with pytest.raises(KeyFormatError, match="no identities"):
        parse_identities(text)


# --- recipients files ---------------------------------------------------------------


def test_recipients_file_with_comments_and_mixed_types() -> None:
    x = X25519Identity.generate().recipient
    text = f"# caseworkers\n{SPEC_X25519_RECIPIENT}\n\n   {x}\r\n# the PQ one\n{SPEC_PQ_RECIPIENT}"
    assert parse_recipients(text) == [
        parse_recipient(SPEC_X25519_RECIPIENT),
        x,
        parse_recipient(SPEC_PQ_RECIPIENT),
    ]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "no recipients"),
        ("# nobody\n\n", "no recipients"),
        (f"{SPEC_X25519_RECIPIENT}\n\nage1notakey\n", "line 3"),
        (f"{SPEC_X25519_RECIPIENT} # alice\n", "line 1"),
    ],
)
def test_recipients_file_rejects(text: str, match: str) -> None:
    with pytest.raises(KeyFormatError, match=match):
        parse_recipients(text)


# --- nothing secret in repr() ------------------------------------------------------------


@pytest.mark.parametrize("kind", GENERATORS)
def test_identity_repr_hides_the_secret(kind: str) -> None:
    """repr() ends up in tracebacks and debug logs: it may show the public key, never the secret."""
    identity = GENERATORS[kind]()
    secret = str(identity)
    for shown in (repr(identity), repr([identity]), f"{identity!r}", repr({"key": identity})):
        assert_no_secret(shown, secret)
    assert str(identity.recipient)[:16] in repr(identity)


def test_spec_identity_repr_hides_the_secret() -> None:
    for text in (SPEC_X25519_IDENTITY, SPEC_PQ_IDENTITY):
        assert_no_secret(repr(parse_identity(text)), text)


def test_scrypt_repr_hides_the_passphrase() -> None:
    passphrase = "correct horse battery staple"
    for obj in (ScryptIdentity(passphrase), ScryptRecipient(passphrase, work_factor=10)):
        assert passphrase not in repr(obj)
        assert "correct" not in repr(obj)


def test_reply_recipients_keep_only_keys_that_can_share_the_reporters_file() -> None:
    reporter = crypto.generate_identity().recipient
    pq = crypto.generate_identity().recipient
    classic = crypto.generate_identity(post_quantum=False).recipient
    assert crypto.reply_recipients(reporter, [pq, classic]) == [reporter, pq]
    assert crypto.reply_recipients(reporter, [classic]) == [reporter]
    # What it returns can always be encrypted to together.
    crypto.encrypt(b"reply", crypto.reply_recipients(reporter, [pq, classic]))


def test_a_fingerprint_is_the_start_of_the_keys_sha256_in_groups() -> None:
    # SHA-256 of the spec's X25519 recipient, as `sha256sum` gives it, cut to 32 hex digits.
    assert crypto.recipient_fingerprint(SPEC_X25519_RECIPIENT) == (
        "6a80 4773 9828 40fa 7eae 3847 079a 53b0"
    )
    assert crypto.recipient_fingerprint(f" {SPEC_X25519_RECIPIENT}\n") == (
        crypto.recipient_fingerprint(SPEC_X25519_RECIPIENT)
    )
    pq = crypto.recipient_fingerprint(SPEC_PQ_RECIPIENT)
    assert len(pq.split()) == 8 and pq != crypto.recipient_fingerprint(SPEC_X25519_RECIPIENT)
