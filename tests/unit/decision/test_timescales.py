"""Timescales: decision and enquiry due times by rating, the one-working-day rule, near breach and breach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mash_decision.config import default_timescales
from mash_decision.domain.timescales import (
    ONE_WORKING_DAY,
    ClockKind,
    Target,
    TimescaleConfig,
    Timescales,
    TimescaleStatus,
)
from mash_runtime.config_files import ConfigError, parse_config
from mash_schemas import BragRating
from pydantic import ValidationError

from tests.unit.decision.casebook import london

pytestmark = pytest.mark.unit

TIMESCALES = Timescales()
FRIDAY_BEFORE_BANK_HOLIDAY = london(2026, 8, 28, 16, 45)


def test_friday_amber_before_a_bank_holiday_runs_from_tuesday_morning() -> None:
    deadline = TIMESCALES.decision_deadline(BragRating.AMBER, FRIDAY_BEFORE_BANK_HOLIDAY)
    assert deadline.clock_started_at == london(2026, 9, 1, 9, 0)
    # 24 working hours would run to Thursday 17:00; one working day from Tuesday 09:00 comes first.
    assert deadline.due_at == london(2026, 9, 2, 9, 0)
    assert deadline.target == ONE_WORKING_DAY
    watch = TIMESCALES.watch(deadline)
    assert watch.minutes_left(FRIDAY_BEFORE_BANK_HOLIDAY) == 8 * 60
    assert watch.minutes_left(london(2026, 8, 31, 12, 0)) == 8 * 60
    assert watch.minutes_left(london(2026, 9, 1, 15, 0)) == 2 * 60


def test_a_red_referral_at_the_same_moment_is_due_that_evening() -> None:
    deadline = TIMESCALES.decision_deadline(BragRating.RED, FRIDAY_BEFORE_BANK_HOLIDAY)
    assert deadline.due_at == london(2026, 8, 28, 20, 45)
    assert deadline.clock is ClockKind.CONTINUOUS
    assert deadline.target == "red target: 4 hours (continuous)"
    assert TIMESCALES.watch(deadline).minutes_left(london(2026, 8, 28, 18, 0)) == 165


def test_a_red_referral_in_the_small_hours_of_a_sunday_is_due_before_dawn() -> None:
    received = london(2026, 8, 30, 3, 10)
    deadline = TIMESCALES.decision_deadline(BragRating.RED, received)
    assert deadline.due_at == london(2026, 8, 30, 7, 10)
    assert TIMESCALES.watch(deadline).status(london(2026, 8, 30, 7, 10)) is TimescaleStatus.BREACHED


def test_green_and_blue_are_held_to_one_working_day() -> None:
    received = london(2026, 3, 10, 10, 0)
    for rating in (BragRating.GREEN, BragRating.BLUE):
        assert TIMESCALES.decision_deadline(rating, received).due_at == london(2026, 3, 11, 10, 0)


def test_a_hub_target_tighter_than_one_working_day_wins() -> None:
    tight = Timescales(TimescaleConfig(decision_targets={BragRating.AMBER: Target(hours=3)}))
    deadline = tight.decision_deadline(BragRating.AMBER, london(2026, 3, 10, 15, 0))
    assert deadline.due_at == london(2026, 3, 11, 10, 0)
    assert deadline.target == "amber target: 3 working hours"
    # A rating left out of the hub's table keeps its default.
    assert tight.config.decision_targets[BragRating.RED] == Target(hours=4, clock=ClockKind.CONTINUOUS)


def test_without_the_one_working_day_rule_green_runs_its_own_72_hours() -> None:
    config = TimescaleConfig(one_working_day_rule=False, decision_targets={BragRating.BLUE: Target(hours=80)})
    deadline = Timescales(config).decision_deadline(BragRating.GREEN, london(2026, 3, 10, 10, 0))
    # 72 working hours are nine working days of eight hours: Tuesday 10:00 to the Monday after next.
    assert deadline.due_at == london(2026, 3, 23, 10, 0)


def test_without_the_one_working_day_rule_every_rating_needs_a_target() -> None:
    with pytest.raises(ValidationError, match="blue"):
        TimescaleConfig(one_working_day_rule=False)


@pytest.mark.parametrize(
    ("minutes_after_start", "status"),
    [
        (0, TimescaleStatus.ON_TRACK),
        (179, TimescaleStatus.ON_TRACK),  # 61 minutes left of a 4-hour window: more than 25%
        (181, TimescaleStatus.NEAR_BREACH),  # 59 minutes left: less than 25% (60 minutes)
        (239, TimescaleStatus.NEAR_BREACH),
        (240, TimescaleStatus.BREACHED),
        (300, TimescaleStatus.BREACHED),
    ],
)
def test_red_status_through_its_four_hours(minutes_after_start: int, status: TimescaleStatus) -> None:
    received = london(2026, 3, 10, 10, 0)
    watch = TIMESCALES.watch(TIMESCALES.decision_deadline(BragRating.RED, received))
    assert watch.status(received + timedelta(minutes=minutes_after_start)) is status


def test_the_near_breach_floor_of_thirty_minutes_applies_to_short_windows() -> None:
    config = TimescaleConfig(decision_targets={BragRating.RED: Target(hours=1, clock=ClockKind.CONTINUOUS)})
    scales = Timescales(config)
    received = london(2026, 3, 10, 10, 0)
    watch = scales.watch(scales.decision_deadline(BragRating.RED, received))
    # 25% of one hour is 15 minutes, but the 30-minute floor is larger.
    assert watch.status(received + timedelta(minutes=29)) is TimescaleStatus.ON_TRACK
    assert watch.status(received + timedelta(minutes=31)) is TimescaleStatus.NEAR_BREACH


def test_a_breached_deadline_reports_negative_working_minutes_and_an_alert() -> None:
    received = london(2026, 3, 10, 10, 0)
    deadline = TIMESCALES.decision_deadline(BragRating.AMBER, received)
    watch = TIMESCALES.watch(deadline)
    late = london(2026, 3, 11, 11, 30)
    assert watch.minutes_left(late) == -90
    alert = watch.alert("ref-1", late)
    assert alert is not None
    assert alert.status == "breached"
    assert alert.working_minutes_left == -90
    assert alert.due_at == london(2026, 3, 11, 10, 0)
    assert watch.alert("ref-1", received) is None


def test_a_working_clock_shows_near_breach_overnight_before_a_morning_deadline() -> None:
    deadline = TIMESCALES.decision_deadline(BragRating.AMBER, london(2026, 3, 10, 9, 0))
    watch = TIMESCALES.watch(deadline)
    evening = london(2026, 3, 10, 20, 0)
    assert watch.minutes_left(evening) == 0
    assert watch.status(evening) is TimescaleStatus.NEAR_BREACH


def test_enquiry_due_time_follows_the_rating() -> None:
    received = london(2026, 3, 10, 10, 0)
    opened = london(2026, 3, 10, 10, 30)
    red = TIMESCALES.decision_deadline(BragRating.RED, received)
    assert TIMESCALES.enquiry_due_at(BragRating.RED, opened, red) == london(2026, 3, 10, 12, 30)
    relaxed = Timescales(
        TimescaleConfig(one_working_day_rule=False, decision_targets={BragRating.BLUE: Target(hours=80)})
    )
    green = relaxed.decision_deadline(BragRating.GREEN, received)
    assert relaxed.enquiry_due_at(BragRating.GREEN, opened, green) == london(2026, 3, 12, 10, 30)


def test_an_enquiry_is_never_due_after_the_decision_and_leaves_the_manager_time() -> None:
    received = london(2026, 3, 10, 10, 0)
    opened = london(2026, 3, 10, 11, 0)
    decision = TIMESCALES.decision_deadline(BragRating.AMBER, received)  # due Wednesday 10:00
    # Eight working hours would run to Wednesday 11:00; the decision's due time less an hour caps it.
    assert TIMESCALES.enquiry_due_at(BragRating.AMBER, opened, decision) == london(2026, 3, 11, 9, 0)
    no_margin = Timescales(TimescaleConfig(decision_margin_minutes=0))
    assert no_margin.enquiry_due_at(BragRating.AMBER, opened, decision) == decision.due_at


def test_an_enquiry_opened_after_the_margin_is_still_capped_by_the_decision() -> None:
    decision = TIMESCALES.decision_deadline(BragRating.AMBER, london(2026, 3, 10, 10, 0))
    opened = london(2026, 3, 11, 9, 40)
    assert TIMESCALES.enquiry_due_at(BragRating.AMBER, opened, decision) == opened
    overdue = london(2026, 3, 11, 12, 0)
    assert TIMESCALES.enquiry_due_at(BragRating.AMBER, overdue, decision) == decision.due_at


def test_config_reads_from_yaml_and_the_shipped_file_holds_the_defaults() -> None:
    assert default_timescales() == TimescaleConfig()
    custom = parse_config(
        """
        working_hours: {opens_at: "08:30", closes_at: "16:30", late_referral_cutoff: "16:00"}
        decision_targets:
          red: {hours: 2, clock: continuous}
        near_breach_minutes: 45
        """,
        TimescaleConfig,
        what="timescales",
    )
    assert custom.decision_targets[BragRating.RED] == Target(hours=2, clock=ClockKind.CONTINUOUS)
    assert custom.decision_targets[BragRating.BLUE] is None
    assert custom.near_breach_minutes == 45
    deadline = Timescales(custom).decision_deadline(BragRating.AMBER, london(2026, 3, 10, 16, 10))
    assert deadline.clock_started_at == london(2026, 3, 11, 8, 30)


def test_config_refuses_an_unknown_setting() -> None:
    with pytest.raises(ConfigError, match="near_breach_minuets"):
        parse_config("near_breach_minuets: 45", TimescaleConfig, what="timescales")
