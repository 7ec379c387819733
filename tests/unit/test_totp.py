"""TOTP (RFC 6238) as the caseworkers' second factor: known answers, drift, malformed codes."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from crypto import totp

RFC_SECRET = b"12345678901234567890"  # RFC 6238 appendix B, SHA-1

# The appendix gives 8-digit codes; a 6-digit code is the same HOTP value modulo 10**6,
# so it is the last 6 digits of each (the dynamic truncation does not depend on length).
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("moment", "eight_digits"), RFC_VECTORS)
def test_rfc_6238_vectors_truncated_to_six_digits(moment: int, eight_digits: str) -> None:
    code = eight_digits[-6:]
    assert totp.code_at(RFC_SECRET, moment) == code
    assert totp.matching_step(RFC_SECRET, code, moment) == moment // totp.STEP_SECONDS


def test_one_step_of_drift_either_way_is_accepted_and_no_more() -> None:
    now = 1_111_111_111.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        code = totp.code_at(RFC_SECRET, now + offset * 30)
        assert totp.matching_step(RFC_SECRET, code, now) == step + offset
    for offset in (-3, -2, 2, 3):
        code = totp.code_at(RFC_SECRET, now + offset * 30)
        assert totp.matching_step(RFC_SECRET, code, now) is None


@pytest.mark.parametrize(
    "code",
    [
        "",
        "28708",
        "2870821",
        "28708a",
        "-287082",
        "\u0662\u0668\u0667\u0660\u0668\u0662",  # Arabic-Indic digits: isdigit(), not a code
        "\uff12\uff18\uff17\uff10\uff18\uff12",  # full-width digits
        "\u00b2\u0038\u0037\u0030\u0038\u0032",  # a superscript two
        "2870.2",
    ],
)
def test_malformed_codes_match_nothing(code: str) -> None:
    assert totp.matching_step(RFC_SECRET, code, 59) is None


def test_spaces_in_a_typed_code_are_ignored() -> None:
    assert totp.matching_step(RFC_SECRET, " 287 082 ", 59) == 1


def test_a_code_for_another_secret_does_not_match() -> None:
    other = totp.new_secret()
    assert totp.matching_step(other, totp.code_at(other, 59), 59) == 1


def test_new_secrets_are_random_160_bits_and_print_as_base32() -> None:
    first, second = totp.new_secret(), totp.new_secret()
    assert len(first) == totp.SECRET_BYTES == 20 and first != second
    text = totp.secret_text(first)
    assert len(text) == 32 and "=" not in text
    assert base64.b32decode(text) == first


def test_the_provisioning_uri_carries_what_apps_need() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, "alice", "Casework")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/Casework:alice")
    query = parse_qs(parts.query)
    assert query["secret"] == [totp.secret_text(RFC_SECRET)]
    assert query["issuer"] == ["Casework"]
    assert query["digits"] == ["6"] and query["period"] == ["30"]
    assert query["algorithm"] == ["SHA1"]
