"""crypto/instance_keys.py: every key derived from the instance secret, under its label.

What matters: the keys are the ones made before this module named them (values below
were sealed and chained by the earlier code), so stored TOTP secrets, session cookies,
throttle rows and the audit chain stay valid; each label gives a different key; an
unnamed label and a short secret are refused.
"""

from __future__ import annotations

import pytest

from crypto import SecretBox
from crypto.chain import GENESIS, Chain
from crypto.instance_keys import (
    AUDIT_CHAIN,
    LABELS,
    LOGIN_THROTTLE,
    SESSION_COOKIE,
    TOTP_SECRETS,
    derive_instance_key,
)
from crypto.primitives import hmac_sha256

SECRET = "an instance secret of enough length"
# Made by the code before this module, with the same secret.
OLD_CHAIN_LINK = "43e4b57a8ca80116d86a8abd8a1e855d9426ce766bb57a708f9d58d9ee59d5ad"
OLD_THROTTLE_MAC = "2543d5cfeb41a19b12e41ae55903205376d6725571bb8b38864a8935860f6a0d"
OLD_SEALED_TOTP = "c7c76e2068b13e3c5b7b4b82884150d2405f2f92ada02c5608aaf1882a659ad603283b772a2929"
OLD_SEALED_COOKIE = "71c0939a4b0199f10b9abe3236a7605f75eb06015c4a3f2c1b4415d12981c8ae4852"


def test_the_keys_are_those_already_in_use() -> None:
    chain = Chain(derive_instance_key(SECRET, AUDIT_CHAIN))
    assert chain.link(GENESIS, ["a", "b"]) == OLD_CHAIN_LINK
    throttle = derive_instance_key(SECRET, LOGIN_THROTTLE)
    assert hmac_sha256(throttle, b"x").hex() == OLD_THROTTLE_MAC
    totp = SecretBox(derive_instance_key(SECRET, TOTP_SECRETS), "caseworker-totp")
    assert totp.open(bytes.fromhex(OLD_SEALED_TOTP)) == b"totp-secret"
    session = SecretBox(derive_instance_key(SECRET, SESSION_COOKIE), "session")
    assert session.open(bytes.fromhex(OLD_SEALED_COOKIE)) == b"cookie"


def test_each_label_gives_its_own_key() -> None:
    keys = {derive_instance_key(SECRET, label) for label in LABELS}
    assert len(keys) == len(LABELS) == 5
    assert derive_instance_key(SECRET.encode(), AUDIT_CHAIN) in keys  # str or bytes alike
    assert derive_instance_key("another instance secret", AUDIT_CHAIN) not in keys


def test_an_unnamed_label_or_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="name every key"):
        derive_instance_key(SECRET, b"reporting/something-new/v1")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        derive_instance_key("short", AUDIT_CHAIN)
