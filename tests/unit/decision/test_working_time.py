"""Working-time arithmetic: weekends, English bank holidays, the late cut-off, and the 24/7 clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mash_decision.domain.working_time import (
    ContinuousCalendar,
    NaiveTimeRefused,
    WorkingCalendar,
    WorkingHours,
)

from tests.unit.decision.casebook import LONDON, london

pytestmark = pytest.mark.unit

CALENDAR = WorkingCalendar()


def test_working_time_runs_over_a_weekend_to_monday_morning() -> None:
    friday = london(2026, 3, 13, 16, 0)
    assert CALENDAR.add_working_time(friday, timedelta(hours=2)) == london(2026, 3, 16, 10, 0)
    assert CALENDAR.working_time_between(friday, london(2026, 3, 16, 10, 0)) == timedelta(hours=2)


def test_a_deadline_that_fills_the_day_ends_at_closing_not_next_morning() -> None:
    assert CALENDAR.add_working_time(london(2026, 3, 10, 9, 0), timedelta(hours=8)) == london(2026, 3, 10, 17, 0)


def test_english_bank_holiday_monday_is_skipped() -> None:
    friday = london(2026, 8, 28, 16, 0)
    assert not CALENDAR.is_working_day(date(2026, 8, 31))
    assert CALENDAR.add_working_time(friday, timedelta(hours=2)) == london(2026, 9, 1, 10, 0)


def test_christmas_and_the_observed_boxing_day_are_skipped() -> None:
    christmas_eve = london(2026, 12, 24, 16, 0)
    # 25th (Christmas), weekend, 28th (Boxing Day observed): the clock resumes on Tuesday the 29th.
    assert CALENDAR.add_working_time(christmas_eve, timedelta(hours=2)) == london(2026, 12, 29, 10, 0)


def test_bank_holidays_follow_the_hubs_nation() -> None:
    scotland = WorkingCalendar(WorkingHours(bank_holidays_subdivision="SCT"))
    assert scotland.is_working_day(date(2026, 8, 31))
    assert not scotland.is_working_day(date(2026, 8, 3))
    assert CALENDAR.is_working_day(date(2026, 8, 3))


def test_a_hub_closure_day_is_skipped() -> None:
    closed = WorkingCalendar(WorkingHours(closed_dates=(date(2026, 3, 11),)))
    assert closed.add_working_time(london(2026, 3, 10, 16, 0), timedelta(hours=2)) == london(2026, 3, 12, 10, 0)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (london(2026, 3, 10, 7, 30), london(2026, 3, 10, 9, 0)),
        (london(2026, 3, 10, 12, 15), london(2026, 3, 10, 12, 15)),
        (london(2026, 3, 10, 17, 0), london(2026, 3, 11, 9, 0)),
        (london(2026, 3, 14, 11, 0), london(2026, 3, 16, 9, 0)),
        (london(2026, 8, 29, 3, 0), london(2026, 9, 1, 9, 0)),
    ],
)
def test_next_working_moment(moment: datetime, expected: datetime) -> None:
    assert CALENDAR.next_working_moment(moment) == expected


def test_a_late_friday_referral_before_a_bank_holiday_starts_its_clock_on_tuesday() -> None:
    assert CALENDAR.clock_start(london(2026, 8, 28, 16, 45)) == london(2026, 9, 1, 9, 0)
    assert CALENDAR.clock_start(london(2026, 8, 28, 16, 29)) == london(2026, 8, 28, 16, 29)
    no_cutoff = WorkingCalendar(WorkingHours(late_referral_cutoff=None))
    assert no_cutoff.clock_start(london(2026, 8, 28, 16, 45)) == london(2026, 8, 28, 16, 45)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (london(2026, 3, 10, 10, 0), london(2026, 3, 11, 10, 0)),
        (london(2026, 3, 13, 11, 20), london(2026, 3, 16, 11, 20)),
        (london(2026, 3, 10, 19, 0), london(2026, 3, 12, 9, 0)),
        (london(2026, 8, 28, 16, 45), london(2026, 9, 2, 9, 0)),
        (london(2026, 8, 29, 3, 0), london(2026, 9, 2, 9, 0)),
    ],
)
def test_one_working_day_from_referral(received: datetime, due: datetime) -> None:
    assert CALENDAR.one_working_day_after(received) == due


def test_working_time_across_the_spring_clock_change_counts_real_hours() -> None:
    friday_gmt = london(2026, 3, 27, 16, 0)
    monday_bst = london(2026, 3, 30, 10, 0)
    assert CALENDAR.add_working_time(friday_gmt, timedelta(hours=2)) == monday_bst
    assert CALENDAR.working_time_between(friday_gmt, monday_bst) == timedelta(hours=2)
    assert monday_bst.utcoffset() == timedelta(hours=1)


def test_working_time_between_is_negative_when_the_end_is_earlier() -> None:
    start, end = london(2026, 3, 10, 10, 0), london(2026, 3, 11, 11, 0)
    assert CALENDAR.working_time_between(end, start) == -timedelta(hours=9)


def test_subtracting_working_time_steps_back_over_the_bank_holiday_weekend() -> None:
    assert CALENDAR.subtract_working_time(london(2026, 9, 1, 10, 0), timedelta(hours=2)) == london(2026, 8, 28, 16, 0)
    assert CALENDAR.subtract_working_time(london(2026, 9, 1, 10, 0), timedelta(hours=1)) == london(2026, 9, 1, 9, 0)


def test_a_time_without_a_timezone_is_refused() -> None:
    with pytest.raises(NaiveTimeRefused):
        CALENDAR.next_working_moment(datetime(2026, 3, 10, 10, 0))
    with pytest.raises(NaiveTimeRefused):
        ContinuousCalendar().add_working_time(datetime(2026, 3, 10, 10, 0), timedelta(hours=1))


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_time(london(2026, 3, 10, 10, 0), timedelta(minutes=-1))


def test_working_hours_must_open_before_they_close() -> None:
    with pytest.raises(ValueError, match="opens_at"):
        WorkingHours(opens_at=time(17, 0), closes_at=time(9, 0))


def test_the_continuous_clock_is_not_paused_out_of_hours() -> None:
    clock = ContinuousCalendar()
    saturday_night = london(2026, 8, 29, 23, 0)
    assert clock.add_working_time(saturday_night, timedelta(hours=4)) == london(2026, 8, 30, 3, 0)
    assert clock.working_time_between(saturday_night, london(2026, 8, 30, 3, 0)) == timedelta(hours=4)
    assert clock.clock_start(saturday_night) == saturday_night


MOMENTS = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2031, 12, 31),
    timezones=st.sampled_from([UTC, LONDON]),
    allow_imaginary=False,
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=400))


@settings(max_examples=200, deadline=None)
@given(start=MOMENTS, duration=DURATIONS)
def test_adding_working_time_then_measuring_it_gives_the_duration_back(start: datetime, duration: timedelta) -> None:
    end = CALENDAR.add_working_time(start, duration)
    assert CALENDAR.working_time_between(start, end) == duration
    assert end >= start


@settings(max_examples=200, deadline=None)
@given(end=MOMENTS, duration=DURATIONS)
def test_subtracting_working_time_then_measuring_it_gives_the_duration_back(end: datetime, duration: timedelta) -> None:
    start = CALENDAR.subtract_working_time(end, duration)
    assert CALENDAR.working_time_between(start, end) == duration


@settings(max_examples=100, deadline=None)
@given(start=MOMENTS, duration=DURATIONS.filter(lambda d: d > timedelta(0)))
def test_a_working_deadline_never_lands_outside_working_hours(start: datetime, duration: timedelta) -> None:
    end = CALENDAR.add_working_time(start, duration).astimezone(LONDON)
    assert CALENDAR.is_working_day(end.date())
    assert time(9, 0) < end.time() <= time(17, 0)
