"""Delivery retries: exponential backoff with a cap, jitter when asked for, and a last attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mash_notify.domain.retry_policy import DeliveryRetriesExhaustedError, RetryPolicy
from pydantic import ValidationError

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 4, 14, 5, tzinfo=UTC)


def _never_called() -> float:
    raise AssertionError("jitter=0 must not draw a random number")


def test_the_schedule_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(
        first_delay=timedelta(seconds=30), multiplier=2, max_delay=timedelta(minutes=5), max_attempts=8
    )

    delays = [policy.delay_after(attempts, _never_called).total_seconds() for attempts in range(1, 8)]

    assert delays == [30, 60, 120, 240, 300, 300, 300]
    assert policy.next_attempt_at(3, NOW, _never_called) == NOW + timedelta(minutes=2)


def test_delivery_is_given_up_after_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)

    assert [policy.exhausted(attempts) for attempts in (1, 2, 3, 4)] == [False, False, True, True]
    with pytest.raises(DeliveryRetriesExhaustedError) as given_up:
        policy.next_attempt_at(3, NOW)
    assert given_up.value.attempts == 3


def test_jitter_shortens_the_delay_by_the_drawn_fraction() -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=100), max_delay=timedelta(seconds=100), jitter=0.5)

    assert policy.delay_after(1, lambda: 0.0) == timedelta(seconds=100)
    assert policy.delay_after(1, lambda: 0.5) == timedelta(seconds=75)
    assert policy.delay_after(1, lambda: 0.999) > timedelta(seconds=50)


@given(
    attempts=st.integers(1, 99),
    draw=st.floats(0.0, 1.0, exclude_max=True),
    jitter=st.floats(0.0, 1.0),
)
def test_a_delay_never_exceeds_the_cap_nor_falls_below_the_unjittered_share(
    attempts: int, draw: float, jitter: float
) -> None:
    policy = RetryPolicy(max_attempts=100, jitter=jitter, max_delay=timedelta(hours=1))
    exact = RetryPolicy(max_attempts=100, max_delay=timedelta(hours=1)).delay_after(attempts)

    delay = policy.delay_after(attempts, lambda: draw)

    assert delay <= timedelta(hours=1)
    assert delay >= exact * (1 - jitter) - timedelta(microseconds=1)


@given(attempts=st.integers(1, 98))
def test_without_jitter_delays_never_shrink(attempts: int) -> None:
    policy = RetryPolicy(max_attempts=100)

    assert policy.delay_after(attempts + 1) >= policy.delay_after(attempts)


@pytest.mark.parametrize(
    "fields",
    [
        {"first_delay": timedelta(0)},
        {"first_delay": timedelta(minutes=10), "max_delay": timedelta(minutes=5)},
        {"jitter": 1.5},
        {"max_attempts": 0},
        {"multiplier": 0.5},
    ],
)
def test_an_unworkable_policy_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate(fields)


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        RetryPolicy().delay_after(0)
