"""The weekly quality-assurance dip sample: which decided cases a practice lead audits, drawn so nobody can choose.

The draw is pure and reproducible. Its seed is the SHA-256 of the hub and the ISO week, so drawing the same week
again gives the same sample, and neither a manager nor the practice lead can pick which cases are audited. Each
decided case of the week is ranked in its outcome's stratum by the SHA-256 of the seed and its referral id (a keyed
hash: every ordering of a stratum equally likely), and the first cases of each stratum are the sample. How many
come from each stratum is the hub's configuration (config/dip_sample.yaml).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from mash_schemas.decision import Outcome
from pydantic import BaseModel, ConfigDict, Field, model_validator


class StratumSize(BaseModel):
    """How many cases of one outcome are drawn: `share` of the week's decisions, within `minimum` and `maximum`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: float = Field(0.1, gt=0, le=1, description="The share of the week's decided cases with this outcome.")
    minimum: int = Field(1, ge=0, description="At least this many (or every case, when there are fewer).")
    maximum: int = Field(10, ge=1, description="At most this many.")

    @model_validator(mode="after")
    def _minimum_within_maximum(self) -> StratumSize:
        if self.minimum > self.maximum:
            raise ValueError("minimum may not be more than maximum")
        return self

    def of(self, decided: int) -> int:
        """How many of `decided` cases are drawn."""
        wanted = max(self.minimum, math.ceil(self.share * decided))
        return min(wanted, self.maximum, decided)


class DipSampleRules(BaseModel):
    """The hub's dip sample: the size for every outcome, and any outcome's own size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_outcome: StratumSize = Field(default_factory=StratumSize)
    by_outcome: dict[Outcome, StratumSize] = Field(default_factory=dict)

    def size_for(self, outcome: Outcome) -> StratumSize:
        """The size rule for `outcome`'s stratum."""
        return self.by_outcome.get(outcome, self.every_outcome)


@dataclass(frozen=True)
class IsoWeek:
    """An ISO week (Monday to Sunday) on the hub's own calendar, the dip sample's period: written 2026-W49.

    The week runs from Monday 00:00 to the next in the hub's timezone (its working hours' zone, Europe/London by
    default), as the practice counts a week: a case decided at 00:30 on a Monday in British Summer Time is that
    week's, not the week before's, though it is still Sunday in UTC. The zone does not take part in equality or in
    the week's name, so the seed of a week is the same whichever zone names it."""

    year: int
    week: int
    zone: tzinfo = field(default=UTC, compare=False)

    @classmethod
    def of(cls, moment: datetime, zone: tzinfo = UTC) -> IsoWeek:
        """The week `moment` falls in, on the calendar of `zone`."""
        calendar = moment.astimezone(zone).isocalendar()
        return cls(calendar.year, calendar.week, zone)

    @classmethod
    def parse(cls, text: str, zone: tzinfo = UTC) -> IsoWeek:
        """`2026-W49` as a week; ValueError when it is no such week."""
        year, _, week = text.partition("-W")
        chosen = cls(int(year), int(week), zone)
        try:
            chosen.ends()  # refuses week 53 of a year that has none, and a week running past year 9999
        except OverflowError as exc:
            raise ValueError(f"{text} ends after the calendar does") from exc
        return chosen

    def monday(self) -> date:
        """The week's first day, as the hub's calendar names it."""
        return date.fromisocalendar(self.year, self.week, 1)

    def _monday(self, weeks_on: int) -> datetime:
        """Monday 00:00 in the hub's zone, `weeks_on` weeks after this week's, as UTC (the clock in a week that
        changes to or from summer time still starts the next week at local midnight)."""
        monday = self.monday() + timedelta(weeks=weeks_on)
        return datetime.combine(monday, time.min, self.zone).astimezone(UTC)

    def starts(self) -> datetime:
        """Monday 00:00 of the week, in the hub's zone (given in UTC)."""
        return self._monday(0)

    def ends(self) -> datetime:
        """The next Monday 00:00 in the hub's zone (not in the week)."""
        return self._monday(1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class DecidedCase:
    """A decided case as the draw sees it: its referral, the outcome (its stratum), who decided and when."""

    referral_id: str
    outcome: Outcome
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True)
class DipSample:
    """A week's sample: the cases drawn, in the order drawn within each outcome, and how many were decided."""

    week: IsoWeek
    cases: tuple[DecidedCase, ...]
    decided_by_outcome: dict[Outcome, int]

    def holds(self, referral_id: str) -> bool:
        """Whether the case was drawn."""
        return any(case.referral_id == referral_id for case in self.cases)


def dip_seed(hub: str, week: IsoWeek) -> bytes:
    """The week's seed: the SHA-256 of the hub and the week, known in advance to anyone, chosen by nobody."""
    return hashlib.sha256(f"mash dip sample|{hub}|{week}".encode()).digest()


def _rank(seed: bytes, referral_id: str) -> bytes:
    return hashlib.sha256(seed + referral_id.encode()).digest()


def draw_dip_sample(decided: Iterable[DecidedCase], rules: DipSampleRules, *, hub: str, week: IsoWeek) -> DipSample:
    """The week's dip sample of `decided` (the cases decided in `week`): the same cases, drawn again, give the same.

    Within an outcome every case is equally likely to be drawn, whatever its referral id or the order the cases
    come in: the rank is a cryptographic hash of the week's seed and the referral id.
    """
    seed = dip_seed(hub, week)
    strata: dict[Outcome, list[DecidedCase]] = {}
    for case in decided:
        strata.setdefault(case.outcome, []).append(case)
    drawn: list[DecidedCase] = []
    for outcome in sorted(strata):
        ranked = sorted(strata[outcome], key=lambda case: _rank(seed, case.referral_id))
        drawn.extend(ranked[: rules.size_for(outcome).of(len(ranked))])
    return DipSample(week, tuple(drawn), {outcome: len(cases) for outcome, cases in sorted(strata.items())})
