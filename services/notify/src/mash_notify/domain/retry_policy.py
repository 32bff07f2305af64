"""When to try a failed delivery again: exponential backoff, capped, with optional jitter, then give up.

Jitter spreads retries so that a recovering mail server or webhook is not hit by every message at
once; with `jitter=0` the schedule is exact, which is what tests use.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DeliveryRetriesExhaustedError(Exception):
    """A message has been tried as often as the retry policy allows; it must be reported as failed."""

    def __init__(self, attempts: int) -> None:
        super().__init__(f"delivery was attempted {attempts} times; no retry is left")
        self.attempts = attempts


class RetryPolicy(BaseModel):
    """Backoff for delivery: `first_delay * multiplier**(attempts-1)`, at most `max_delay`.

    `jitter` is the fraction (0 to 1) by which a delay may be shortened at random.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_delay: timedelta = Field(timedelta(seconds=30), gt=timedelta(0))
    multiplier: float = Field(2.0, ge=1.0, le=10.0)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = Field(8, ge=1, le=100)
    jitter: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _cap_not_below_first(self) -> Self:
        if self.max_delay < self.first_delay:
            raise ValueError("max_delay must not be shorter than first_delay")
        return self

    def exhausted(self, attempts: int) -> bool:
        """True when `attempts` deliveries have been tried and no more are allowed."""
        return attempts >= self.max_attempts

    def delay_after(self, attempts: int, draw: Callable[[], float] = random.random) -> timedelta:
        """The wait after the `attempts`-th failed attempt. `draw` returns a number in [0, 1)."""
        if attempts < 1:
            raise ValueError("attempts counts tries already made, so it starts at 1")
        cap = self.max_delay.total_seconds()
        seconds = self.first_delay.total_seconds()
        # Multiply step by step so a large attempt count cannot overflow a float.
        for _ in range(attempts - 1):
            seconds *= self.multiplier
            if seconds >= cap:
                break
        seconds = min(seconds, cap)
        if self.jitter:
            seconds *= 1.0 - self.jitter * draw()
        return timedelta(seconds=seconds)

    def next_attempt_at(self, attempts: int, now: datetime, draw: Callable[[], float] = random.random) -> datetime:
        """When to try again after `attempts` failed tries at `now`; raises when retries are exhausted."""
        if self.exhausted(attempts):
            raise DeliveryRetriesExhaustedError(attempts)
        return now + self.delay_after(attempts, draw)
