"""The desk's queue: referrals awaiting screening or a decision, most urgent first, with the real time left.

Breached referrals come first, then those with the least time left on their clock, then the more
serious rating. Time left is shown on the rating's clock: working hours for most, continuous for red.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mash_schemas import BragRating
from pydantic import AwareDatetime, BaseModel, ConfigDict

from mash_decision.domain.case_file import CaseFile, CaseState
from mash_decision.domain.timescales import ClockKind, Timescales, TimescaleStatus

WAITING_AT_THE_DESK = frozenset({CaseState.AWAITING_SCREENING, CaseState.AWAITING_DECISION})


class QueueEntry(BaseModel):
    """One referral in the queue, as the desk shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str
    state: CaseState
    rating: BragRating
    received_at: AwareDatetime
    due_at: AwareDatetime
    target: str
    status: TimescaleStatus
    minutes_left: int
    time_left: str
    enquiry_completed: bool


def time_left_text(minutes: int, clock: ClockKind) -> str:
    """e.g. '3h 20m (working)', '0h 45m (continuous)', 'overdue by 1h 05m (working)'."""
    hours, rest = divmod(abs(minutes), 60)
    text = f"{hours}h {rest:02d}m ({clock.value})"
    return f"overdue by {text}" if minutes < 0 else text


def desk_queue(cases: Iterable[CaseFile], timescales: Timescales, now: datetime) -> list[QueueEntry]:
    """The referrals waiting at the desk, most urgent first."""
    entries: list[QueueEntry] = []
    for case in cases:
        if case.state not in WAITING_AT_THE_DESK:
            continue
        watch = timescales.watch(case.decision_deadline)
        minutes = watch.minutes_left(now)
        entries.append(
            QueueEntry(
                referral_id=case.referral_id,
                state=case.state,
                rating=case.rating,
                received_at=case.referral.received_at,
                due_at=case.decision_deadline.due_at,
                target=case.decision_deadline.target,
                status=watch.status(now),
                minutes_left=minutes,
                time_left=time_left_text(minutes, case.decision_deadline.clock),
                enquiry_completed=case.enquiry_outcome is not None,
            )
        )
    return sorted(
        entries,
        key=lambda entry: (
            entry.status is not TimescaleStatus.BREACHED,
            entry.minutes_left,
            -entry.rating.severity,
            entry.received_at,
            entry.referral_id,
        ),
    )
