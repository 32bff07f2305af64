"""Webhook signatures: a signed body verifies; any change to body, time or secret is caught."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mash_notify.domain.signing import WebhookSignatureError, sign, verify_signature

pytestmark = pytest.mark.unit

AT = datetime(2025, 3, 4, 14, 5, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests"
BODY = b'{"kind":"handoff","referral_id":"R-2025-0042"}'


@given(body=st.binary(max_size=2000), secret=st.text(min_size=1, max_size=64), delay=st.integers(0, 300))
def test_a_signed_body_verifies(body: bytes, secret: str, delay: int) -> None:
    header = sign(body, secret, at=AT)

    verify_signature(header, body, secret, now=AT + timedelta(seconds=delay))


def test_the_header_has_the_timestamp_and_a_sha256_hex_digest() -> None:
    header = sign(BODY, SECRET, at=AT)
    timestamp, digest = header.split(",")

    assert timestamp == f"t={int(AT.timestamp())}"
    assert digest.startswith("v1=")
    assert len(digest) == 3 + 64
    assert sign(BODY, SECRET, at=AT) == header
    assert sign(BODY, SECRET, at=AT + timedelta(seconds=1)) != header


@given(body=st.binary(min_size=1, max_size=500), position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_change_to_the_body_is_caught(body: bytes, position: int, flip: int) -> None:
    header = sign(body, SECRET, at=AT)
    index = position % len(body)
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]

    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(header, tampered, SECRET, now=AT)


def test_a_changed_timestamp_is_caught() -> None:
    digest = sign(BODY, SECRET, at=AT).split(",")[1]
    forged = f"t={int(AT.timestamp()) + 60},{digest}"

    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(forged, BODY, SECRET, now=AT)


def test_the_wrong_secret_is_caught() -> None:
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(sign(BODY, "another-secret", at=AT), BODY, SECRET, now=AT)


@pytest.mark.parametrize("skew", [timedelta(minutes=5, seconds=1), timedelta(minutes=-5, seconds=-1)])
def test_a_signature_outside_the_tolerance_is_refused(skew: timedelta) -> None:
    header = sign(BODY, SECRET, at=AT)

    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify_signature(header, BODY, SECRET, now=AT + skew)
    verify_signature(header, BODY, SECRET, now=AT + skew, tolerance=timedelta(minutes=10))


def test_a_receiver_accepts_either_secret_while_they_rotate() -> None:
    old, new = sign(BODY, "old-secret", at=AT), sign(BODY, "new-secret", at=AT)
    both = f"{old},{new.split(',')[1]}"

    verify_signature(both, BODY, "new-secret", now=AT)
    verify_signature(both, BODY, "old-secret", now=AT)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "malformed"),
        ("v1=abc", "no timestamp"),
        ("t=1741097100", "no v1"),
        ("t=soon,v1=abc", "whole number"),
        ("t=1741097100,v1", "malformed"),
    ],
)
def test_a_malformed_header_is_refused(header: str, reason: str) -> None:
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_signature(header, BODY, SECRET, now=AT)


def test_a_non_ascii_signature_is_refused_not_crashed() -> None:
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(f"t={int(AT.timestamp())},v1=é", BODY, SECRET, now=AT)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign(BODY, "", at=AT)
