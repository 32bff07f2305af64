"""The desk's queue: breached first, then least time left, then the more serious rating."""

from __future__ import annotations

from datetime import datetime

import pytest
from mash_decision.domain.case_file import CaseFile, CaseState
from mash_decision.domain.queue import desk_queue, time_left_text
from mash_decision.domain.timescales import ClockKind, Timescales, TimescaleStatus
from mash_runtime.roles import Role
from mash_schemas import AllocatedWorker, BragRating

from tests.unit.decision.casebook import london, referral

pytestmark = pytest.mark.unit

TIMESCALES = Timescales()


def case(referral_id: str, rating: BragRating, received_at: datetime) -> CaseFile:
    return CaseFile.open(referral(referral_id, received_at=received_at, suggested=rating), TIMESCALES, received_at)


@pytest.mark.parametrize(
    ("minutes", "clock", "text"),
    [
        (200, ClockKind.WORKING, "3h 20m (working)"),
        (45, ClockKind.CONTINUOUS, "0h 45m (continuous)"),
        (1500, ClockKind.WORKING, "25h 00m (working)"),
        (-65, ClockKind.WORKING, "overdue by 1h 05m (working)"),
    ],
)
def test_time_left_text(minutes: int, clock: ClockKind, text: str) -> None:
    assert time_left_text(minutes, clock) == text


def test_the_queue_puts_breached_first_then_least_time_left_then_severity() -> None:
    now = london(2026, 3, 11, 10, 30)
    overdue_green = case("overdue-green", BragRating.GREEN, london(2026, 3, 10, 10, 0))  # due Wed 10:00
    soon_amber = case("soon-amber", BragRating.AMBER, london(2026, 3, 10, 11, 0))  # due Wed 11:00
    soon_red = case("soon-red", BragRating.RED, london(2026, 3, 11, 7, 0))  # due Wed 11:00, continuous
    later_blue = case("later-blue", BragRating.BLUE, london(2026, 3, 10, 15, 0))  # due Wed 15:00
    queue = desk_queue([later_blue, soon_amber, overdue_green, soon_red], TIMESCALES, now)
    assert [entry.referral_id for entry in queue] == ["overdue-green", "soon-red", "soon-amber", "later-blue"]
    assert queue[0].status is TimescaleStatus.BREACHED
    assert queue[0].time_left == "overdue by 0h 30m (working)"
    assert queue[1].time_left == "0h 30m (continuous)"
    assert queue[2].time_left == "0h 30m (working)"
    assert queue[3].time_left == "4h 30m (working)"


def test_the_queue_shows_the_real_time_left_over_a_bank_holiday_weekend() -> None:
    friday = london(2026, 8, 28, 16, 45)
    amber = case("amber", BragRating.AMBER, friday)
    red = case("red", BragRating.RED, friday)
    queue = desk_queue([amber, red], TIMESCALES, london(2026, 8, 29, 12, 0))
    assert [entry.referral_id for entry in queue] == ["red", "amber"]
    assert queue[0].status is TimescaleStatus.BREACHED  # the red was due 20:45 on Friday
    assert queue[1].time_left == "8h 00m (working)"
    assert queue[1].status is TimescaleStatus.ON_TRACK


def test_only_cases_waiting_at_the_desk_are_queued() -> None:
    now = london(2026, 3, 10, 12, 0)
    waiting = case("waiting", BragRating.GREEN, london(2026, 3, 10, 10, 0))
    routed = CaseFile.open(
        referral("routed", allocated_worker=AllocatedWorker(name="Priya Shah", team="CIN 2")), TIMESCALES, now
    )
    routed.route_to_allocated_worker("routing rule", Role.SCREENER, now=now)
    screened = case("screened", BragRating.GREEN, london(2026, 3, 10, 10, 0))
    screened.screen(
        "Jo Screener", Role.SCREENER, confirmed_rating=BragRating.GREEN, rationale=None, now=now, timescales=TIMESCALES,
    )
    queue = desk_queue([waiting, routed, screened], TIMESCALES, now)
    assert {entry.referral_id for entry in queue} == {"waiting", "screened"}
    assert {entry.state for entry in queue} == {CaseState.AWAITING_SCREENING, CaseState.AWAITING_DECISION}
