"""Working time for a hub: when the desk's clock runs (working hours, English bank holidays) and a 24/7 clock.

Statutory guidance counts "one working day" from a referral, and hubs set their amber and green targets in
working hours, so the desk needs arithmetic that skips evenings, weekends and bank holidays. Red cases are
held by the emergency duty team out of hours, so their clock (ContinuousCalendar) never pauses.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# A calendar with no working day in ten years is misconfigured; stop rather than loop for ever.
_SEARCH_LIMIT_DAYS = 3660


class NaiveTimeRefused(ValueError):
    """A time without a timezone reached the clock: the desk cannot tell which hour it means."""


class NoWorkingDays(ValueError):
    """The calendar has no working day within ten years, so no deadline can be set."""


class Weekday(StrEnum):
    """Days of the week by name, as a hub writes them in its configuration."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Python's weekday number (Monday is 0)."""
        return list(Weekday).index(self)


class WorkingHours(BaseModel):
    """A hub's working week: opening hours, working days, timezone, bank holidays and closures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opens_at: time = time(9, 0)
    closes_at: time = time(17, 0)
    working_days: tuple[Weekday, ...] = (
        Weekday.MONDAY,
        Weekday.TUESDAY,
        Weekday.WEDNESDAY,
        Weekday.THURSDAY,
        Weekday.FRIDAY,
    )
    timezone: str = "Europe/London"
    bank_holidays_country: str = Field("GB", description="ISO country code for the `holidays` library.")
    bank_holidays_subdivision: str | None = Field(
        "ENG", description="'ENG' for England; 'WLS', 'SCT' or 'NIR' for hubs elsewhere in the UK."
    )
    closed_dates: tuple[date, ...] = Field((), description="Extra days the hub is closed (e.g. a local holiday).")
    late_referral_cutoff: time | None = Field(
        time(16, 30),
        description=(
            "A referral received on a working day at or after this time starts its working clock the next "
            "working morning: nobody can screen it before the office closes. None: no cut-off."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _a_working_day_that_opens_before_it_closes(self) -> WorkingHours:
        if self.opens_at >= self.closes_at:
            raise ValueError("opens_at must be before closes_at")
        if not self.working_days:
            raise ValueError("at least one working day is needed")
        cutoff = self.late_referral_cutoff
        if cutoff is not None and not self.opens_at < cutoff <= self.closes_at:
            raise ValueError("late_referral_cutoff must fall within working hours")
        return self


class HubClock(Protocol):
    """What a timescale needs from a clock; the working calendar and the 24/7 clock both provide it."""

    def clock_start(self, received_at: datetime) -> datetime:
        """When a clock for something received at `received_at` starts running."""
        ...

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` if the clock runs then, else the next moment it does."""
        ...

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of clock time after `start`."""
        ...

    def subtract_working_time(self, end: datetime, duration: timedelta) -> datetime:
        """The latest moment that is `duration` of clock time before `end`."""
        ...

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Clock time from `start` to `end`; negative when `end` is earlier."""
        ...

    def one_working_day_after(self, received_at: datetime) -> datetime:
        """The statutory "one working day from referral" for something received at `received_at`."""
        ...


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveTimeRefused(f"{moment.isoformat()} has no timezone")


def _utc(moment: datetime) -> datetime:
    # Subtracting two datetimes that share a tzinfo ignores DST; converting to UTC first never does.
    return moment.astimezone(UTC)


class WorkingCalendar:
    """A hub's working clock: runs only in working hours on working days that are not bank holidays."""

    def __init__(self, hours: WorkingHours | None = None) -> None:
        self.hours = hours or WorkingHours()
        self.zone = ZoneInfo(self.hours.timezone)
        self._closed = frozenset(self.hours.closed_dates)
        self._weekdays = frozenset(day.number for day in self.hours.working_days)
        # The first look-up loads the country's holiday rules: about a CPU-second, over 20 s on a busy
        # machine, which in a service's event loop stalled its consumers past their heartbeat on the
        # first referral. Taken here, at start-up, instead.
        self.bank_holidays(datetime.now(UTC).year)

    @property
    def working_day_length(self) -> timedelta:
        """How long the clock runs on one working day."""
        anchor = date(2000, 1, 3)
        return datetime.combine(anchor, self.hours.closes_at) - datetime.combine(anchor, self.hours.opens_at)

    def bank_holidays(self, year: int) -> frozenset[date]:
        """The bank holidays of `year` in the hub's country and subdivision (from the `holidays` library)."""
        return _bank_holidays(self.hours.bank_holidays_country, self.hours.bank_holidays_subdivision, year)

    def is_working_day(self, day: date) -> bool:
        """True when the hub works on `day`: a working weekday, not a bank holiday, not a closure."""
        return day.weekday() in self._weekdays and day not in self._closed and day not in self.bank_holidays(day.year)

    def is_working_moment(self, moment: datetime) -> bool:
        """True when the clock runs at `moment`."""
        _require_aware(moment)
        local = moment.astimezone(self.zone)
        day = local.date()
        return self.is_working_day(day) and self._opening(day) <= local < self._closing(day)

    def clock_start(self, received_at: datetime) -> datetime:
        """The next working moment, or the next working morning for a referral after the late cut-off."""
        _require_aware(received_at)
        local = received_at.astimezone(self.zone)
        day = local.date()
        cutoff = self.hours.late_referral_cutoff
        if (
            cutoff is not None
            and self.is_working_day(day)
            and datetime.combine(day, cutoff, tzinfo=self.zone) <= local < self._closing(day)
        ):
            return self._opening(self._next_working_day(day))
        return self.next_working_moment(received_at)

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself in working hours, otherwise the next opening time (in the hub's timezone)."""
        _require_aware(moment)
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.is_working_day(day):
            if local < self._opening(day):
                return self._opening(day)
            if local < self._closing(day):
                return local
        return self._opening(self._next_working_day(day))

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start`; a deadline filling a day ends at closing."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        moment = self.next_working_moment(start)
        remaining = duration
        while True:
            day = moment.date()
            available = _utc(self._closing(day)) - _utc(moment)
            if remaining <= available:
                return (_utc(moment) + remaining).astimezone(self.zone)
            remaining -= available
            moment = self._opening(self._next_working_day(day))

    def subtract_working_time(self, end: datetime, duration: timedelta) -> datetime:
        """The latest moment `duration` of working time before `end`; a day's first minutes end at opening."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        moment = self._previous_working_moment(end)
        remaining = duration
        while True:
            day = moment.date()
            available = _utc(moment) - _utc(self._opening(day))
            if remaining <= available:
                return (_utc(moment) - remaining).astimezone(self.zone)
            remaining -= available
            moment = self._closing(self._previous_working_day(day))

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end`; negative when `end` is before `start`."""
        _require_aware(start)
        _require_aware(end)
        if end < start:
            return -self.working_time_between(end, start)
        total = timedelta(0)
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            if self.is_working_day(day):
                low = max(_utc(start), _utc(self._opening(day)))
                high = min(_utc(end), _utc(self._closing(day)))
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return total

    def one_working_day_after(self, received_at: datetime) -> datetime:
        """The same working-clock point on the next working day, counted from the clock's start."""
        start = self.clock_start(received_at)
        return datetime.combine(self._next_working_day(start.date()), start.time(), tzinfo=self.zone)

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, self.hours.opens_at, tzinfo=self.zone)

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.hours.closes_at, tzinfo=self.zone)

    def _next_working_day(self, day: date) -> date:
        for offset in range(1, _SEARCH_LIMIT_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise NoWorkingDays(f"no working day within ten years after {day.isoformat()}")

    def _previous_working_day(self, day: date) -> date:
        for offset in range(1, _SEARCH_LIMIT_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise NoWorkingDays(f"no working day within ten years before {day.isoformat()}")

    def _previous_working_moment(self, moment: datetime) -> datetime:
        _require_aware(moment)
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.is_working_day(day):
            if local > self._closing(day):
                return self._closing(day)
            if local > self._opening(day):
                return local
        return self._closing(self._previous_working_day(day))


class ContinuousCalendar:
    """A 24/7 clock for red cases: the emergency duty team works nights, weekends and bank holidays."""

    def clock_start(self, received_at: datetime) -> datetime:
        """A red clock starts the moment the referral arrives."""
        _require_aware(received_at)
        return received_at

    def next_working_moment(self, moment: datetime) -> datetime:
        """Every moment is a working moment."""
        _require_aware(moment)
        return moment

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """Plain elapsed time after `start`."""
        _require_aware(start)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        return (_utc(start) + duration).astimezone(start.tzinfo)

    def subtract_working_time(self, end: datetime, duration: timedelta) -> datetime:
        """Plain elapsed time before `end`."""
        _require_aware(end)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        return (_utc(end) - duration).astimezone(end.tzinfo)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Plain elapsed time from `start` to `end`."""
        _require_aware(start)
        _require_aware(end)
        return _utc(end) - _utc(start)

    def one_working_day_after(self, received_at: datetime) -> datetime:
        """Twenty-four hours later."""
        return self.add_working_time(received_at, timedelta(days=1))


@functools.cache
def _bank_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """A country's bank holidays in `year`, worked out once per process: a calendar is built for every clock
    (decision's timescales hold several, a test builds one per service it starts), and the rules do not change
    while the process runs."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())
