"""Timescales: when a referral's decision and its enquiry are due, and whether the desk is on track.

Shared by the manager's desk (services/decision, which watches the clock) and insight (which reports
performance against the same targets on the same working calendar): pure, no I/O.

A referral's decision is due at the earliest of its hub's target for its BRAG rating (red on the 24/7
clock, others in working hours) and the statutory one working day from referral. An enquiry is due by
its rating too, but never after the decision it feeds: the manager needs time to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from mash_schemas import BragRating, TimescaleAlert
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from mash_runtime.config_files import load_config, parse_config
from mash_runtime.working_time import ContinuousCalendar, HubClock, WorkingCalendar, WorkingHours

ONE_WORKING_DAY = "one working day from referral"


class ClockKind(StrEnum):
    """Which clock a target runs on: working hours, or continuous (24/7, for red cases)."""

    WORKING = "working"
    CONTINUOUS = "continuous"


class TimescaleStatus(StrEnum):
    """How a deadline stands: the values match the contract's TimescaleAlert status."""

    ON_TRACK = "on_track"
    NEAR_BREACH = "near_breach"
    BREACHED = "breached"


class Target(BaseModel):
    """A target duration on a clock, e.g. 4 hours continuous or 24 working hours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hours: float = Field(gt=0)
    clock: ClockKind = ClockKind.WORKING

    @property
    def duration(self) -> timedelta:
        """The target as a duration of clock time."""
        return timedelta(hours=self.hours)

    def describe(self) -> str:
        """e.g. '4 hours (continuous)' or '24 working hours'."""
        amount = f"{self.hours:g} hour" + ("" if self.hours == 1 else "s")
        if self.clock is ClockKind.CONTINUOUS:
            return f"{amount} (continuous)"
        return f"{self.hours:g} working hour" + ("" if self.hours == 1 else "s")


DEFAULT_DECISION_TARGETS: dict[BragRating, Target | None] = {
    BragRating.RED: Target(hours=4, clock=ClockKind.CONTINUOUS),
    BragRating.AMBER: Target(hours=24),
    BragRating.GREEN: Target(hours=72),
    BragRating.BLUE: None,
}
DEFAULT_ENQUIRY_TARGETS: dict[BragRating, Target] = {
    BragRating.RED: Target(hours=2, clock=ClockKind.CONTINUOUS),
    BragRating.AMBER: Target(hours=8),
    BragRating.GREEN: Target(hours=16),
    BragRating.BLUE: Target(hours=24),
}


class TimescaleConfig(BaseModel):
    """A hub's timescales. A rating left out of a targets table keeps its default; null means no target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    working_hours: WorkingHours = WorkingHours()
    one_working_day_rule: bool = Field(True, description="Statutory: decide within one working day of referral.")
    decision_targets: dict[BragRating, Target | None] = Field(default_factory=lambda: dict(DEFAULT_DECISION_TARGETS))
    enquiry_targets: dict[BragRating, Target] = Field(default_factory=lambda: dict(DEFAULT_ENQUIRY_TARGETS))
    decision_margin_minutes: int = Field(
        60,
        ge=0,
        description=(
            "Time kept for the manager between an enquiry's due time and the decision's due time, on the "
            "decision's clock; 0 lets an enquiry run right up to the decision's due time."
        ),
    )
    near_breach_fraction: float = Field(0.25, ge=0, le=1, description="Near breach below this share of the window.")
    near_breach_minutes: int = Field(30, ge=0, description="...or below this many minutes, whichever is larger.")

    @field_validator("decision_targets", mode="before")
    @classmethod
    def _decision_defaults(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**{rating.value: target for rating, target in DEFAULT_DECISION_TARGETS.items()}, **value}
        return value

    @field_validator("enquiry_targets", mode="before")
    @classmethod
    def _enquiry_defaults(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**{rating.value: target for rating, target in DEFAULT_ENQUIRY_TARGETS.items()}, **value}
        return value

    @model_validator(mode="after")
    def _every_rating_has_a_deadline(self) -> TimescaleConfig:
        if not self.one_working_day_rule:
            missing = [rating.value for rating in BragRating if self.decision_targets.get(rating) is None]
            if missing:
                raise ValueError(f"without the one-working-day rule every rating needs a target: {missing}")
        return self

    @classmethod
    def from_yaml(cls, text: str) -> TimescaleConfig:
        """Read a hub's timescales from YAML text (times such as opens_at must be quoted: "09:00")."""
        return parse_config(text, cls, what="timescales")

    @classmethod
    def load(cls, path: Path | Traversable) -> TimescaleConfig:
        """Read a hub's timescales file; a mistake names the file and the field (mash_runtime.config_files)."""
        return load_config(path, cls, what="timescales")


class Deadline(BaseModel):
    """A due time as stored on a case file: what it is for, which clock, when it started and is due."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rating: BragRating
    target: str = Field(description="Which target set the due time, e.g. 'red target: 4 hours (continuous)'.")
    clock: ClockKind = Field(description="The rating's clock: time left is counted on it.")
    started_at: AwareDatetime = Field(description="When the referral was received.")
    clock_started_at: AwareDatetime = Field(description="When the rating's clock started running.")
    due_at: AwareDatetime

    @field_serializer("started_at", "clock_started_at", "due_at")
    def _in_utc(self, moment: datetime) -> datetime:
        # Stored as UTC so that due times sort correctly as text in the case-file document.
        return moment.astimezone(UTC)


@dataclass(frozen=True)
class DeadlineClock:
    """A deadline bound to its clock, so the desk can ask how much time is left and how it stands."""

    deadline: Deadline
    clock: HubClock
    near_breach_fraction: float
    near_breach_minimum: timedelta

    @property
    def window(self) -> timedelta:
        """Clock time from the clock's start to the due time."""
        return self.clock.working_time_between(self.deadline.clock_started_at, self.deadline.due_at)

    def time_left(self, now: datetime) -> timedelta:
        """Clock time left until the due time; negative once breached. Nothing is used up before the start."""
        counted_from = max(now, self.deadline.clock_started_at)
        return self.clock.working_time_between(counted_from, self.deadline.due_at)

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes of clock time left (working minutes on a working clock); negative once breached."""
        return int(self.time_left(now).total_seconds() // 60)

    def status(self, now: datetime) -> TimescaleStatus:
        """Breached at or after the due time; near breach when little of the window is left."""
        if now >= self.deadline.due_at:
            return TimescaleStatus.BREACHED
        threshold = max(self.window * self.near_breach_fraction, self.near_breach_minimum)
        if self.time_left(now) < threshold:
            return TimescaleStatus.NEAR_BREACH
        return TimescaleStatus.ON_TRACK

    def alert(self, referral_id: str, now: datetime) -> TimescaleAlert | None:
        """The contract's alert for a near-breach or breach; None while on track."""
        status = self.status(now)
        if status is TimescaleStatus.ON_TRACK:
            return None
        return TimescaleAlert(
            referral_id=referral_id,
            rating=self.deadline.rating,
            target=self.deadline.target,
            due_at=self.deadline.due_at,
            status="breached" if status is TimescaleStatus.BREACHED else "near_breach",
            working_minutes_left=self.minutes_left(now),
        )


class Timescales:
    """A hub's timescale rules with their clocks: computes due times and watches them."""

    def __init__(self, config: TimescaleConfig | None = None) -> None:
        self.config = config or TimescaleConfig()
        self.working = WorkingCalendar(self.config.working_hours)
        self.continuous = ContinuousCalendar()

    def clock(self, kind: ClockKind) -> HubClock:
        """The clock of that kind."""
        return self.continuous if kind is ClockKind.CONTINUOUS else self.working

    def rating_clock(self, rating: BragRating) -> ClockKind:
        """The clock a rating's decision target runs on (working when the rating has no target)."""
        target = self.config.decision_targets.get(rating)
        return target.clock if target is not None else ClockKind.WORKING

    def decision_deadline(self, rating: BragRating, received_at: datetime) -> Deadline:
        """When the decision on a referral received at `received_at` with `rating` is due."""
        candidates: list[tuple[datetime, str]] = []
        target = self.config.decision_targets.get(rating)
        if target is not None:
            clock = self.clock(target.clock)
            due = clock.add_working_time(clock.clock_start(received_at), target.duration)
            candidates.append((due, f"{rating.value} target: {target.describe()}"))
        if self.config.one_working_day_rule:
            candidates.append((self.working.one_working_day_after(received_at), ONE_WORKING_DAY))
        due_at, label = min(candidates, key=lambda candidate: candidate[0])
        kind = self.rating_clock(rating)
        return Deadline(
            rating=rating,
            target=label,
            clock=kind,
            started_at=received_at,
            clock_started_at=self.clock(kind).clock_start(received_at),
            due_at=due_at,
        )

    def enquiry_due_at(self, rating: BragRating, opened_at: datetime, decision: Deadline) -> datetime:
        """An enquiry's due time by its rating, kept before the decision's due time by the manager's margin.

        The margin never pulls the due time before the enquiry was opened, but the decision's due time
        always caps it: an enquiry is never due after the decision it feeds.
        """
        target = self.config.enquiry_targets[rating]
        by_rating = self.clock(target.clock).add_working_time(opened_at, target.duration)
        margin = timedelta(minutes=self.config.decision_margin_minutes)
        latest = self.clock(decision.clock).subtract_working_time(decision.due_at, margin)
        latest = max(latest, min(opened_at, decision.due_at))
        return min(by_rating, latest)

    def watch(self, deadline: Deadline) -> DeadlineClock:
        """Bind a stored deadline to its clock and this hub's near-breach threshold."""
        return DeadlineClock(
            deadline=deadline,
            clock=self.clock(deadline.clock),
            near_breach_fraction=self.config.near_breach_fraction,
            near_breach_minimum=timedelta(minutes=self.config.near_breach_minutes),
        )


def default_timescales() -> TimescaleConfig:
    """The timescales in the shipped timescales.yaml (a hub passes its own file to decision and insight)."""
    return TimescaleConfig.load(files("mash_runtime").joinpath("timescales.yaml"))
