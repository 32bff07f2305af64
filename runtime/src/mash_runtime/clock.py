"""The time a service reads: one injected callable, so that tests set it instead of waiting for it.

Every use case asks its `Clock` for "now" rather than calling `datetime.now`, and a service's
`bootstrap(settings, clock=...)` passes one clock to all of them. Production uses `utc_now`; tests
pass a `FixedClock` and move it on, so a timescale breach or a retry's back-off is reached by
`clock.advance(hours=4)`, not by sleeping (and no test depends on how fast the machine is).

Not to be confused with mash_runtime.working_time.HubClock, which measures durations in working
hours and days; that one answers "how long between", this one "what time is it".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real time, timezone-aware (every stored and published time in the hub is UTC)."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it: `clock()` is now, `clock.advance(...)` moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start (the hub keeps every time in UTC)")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move the clock on by `delta` or by timedelta's keywords (`hours=4`); returns the new now."""
        self.now += (delta or timedelta()) + timedelta(**parts)
        return self.now

    def set(self, moment: datetime) -> None:
        """Put the clock at `moment` (timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware time")
        self.now = moment
