"""Standard Webhooks signatures: the spec's example, round trips, and every refusal."""

from __future__ import annotations

import pytest

from crypto import webhooks

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specs_example() -> None:
    assert webhooks.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    webhooks.verify(
        SPEC_SECRET, SPEC_ID, str(SPEC_TIMESTAMP), SPEC_SIGNATURE, SPEC_BODY, SPEC_TIMESTAMP
    )


def test_new_secrets_are_random_and_usable() -> None:
    first, second = webhooks.new_secret(), webhooks.new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(webhooks.decode_secret(first)) == 32
    headers = webhooks.headers(first, "msg_1", 100, b"body")
    webhooks.verify(first, "msg_1", "100", headers["webhook-signature"], b"body", 100)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": b'{"test": 2432232315}'}, "no valid signature"),
        ({"message_id": "msg_other"}, "no valid signature"),
        ({"secret": webhooks.new_secret()}, "no valid signature"),
        ({"signature": "v2," + SPEC_SIGNATURE[3:]}, "no valid signature"),
        ({"signature": "v1,not-base64!"}, "no valid signature"),
        ({"now": SPEC_TIMESTAMP + 301}, "too far"),
        ({"now": SPEC_TIMESTAMP - 301}, "too far"),
        ({"timestamp": "soon"}, "whole number"),
        ({"message_id": ""}, "webhook-id"),
    ],
)
def test_refusals(change: dict, message: str) -> None:
    args = {
        "secret": SPEC_SECRET,
        "message_id": SPEC_ID,
        "timestamp": str(SPEC_TIMESTAMP),
        "signature": SPEC_SIGNATURE,
        "body": SPEC_BODY,
        "now": SPEC_TIMESTAMP,
    }
    args.update(change)
    with pytest.raises(webhooks.WebhookSignatureError, match=message):
        webhooks.verify(
            args["secret"], args["message_id"], args["timestamp"], args["signature"],
            args["body"], args["now"],
        )  # fmt: skip


def test_one_valid_signature_among_several_is_enough() -> None:
    header = f"v1,AAAA v2,xyz {SPEC_SIGNATURE}"
    webhooks.verify(SPEC_SECRET, SPEC_ID, str(SPEC_TIMESTAMP), header, SPEC_BODY, SPEC_TIMESTAMP)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_!!!", "whsec_AAAA"])
def test_bad_secrets(secret: str) -> None:
    with pytest.raises(webhooks.WebhookSignatureError):
        webhooks.decode_secret(secret)
