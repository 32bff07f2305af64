"""Days, weeks and months in the hub's own timezone: how the figures are grouped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Grouping(StrEnum):
    """How figures are grouped over time."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """The days looked at, first and last included, in the hub's timezone."""

    first: date
    last: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a period's last day cannot be before its first")

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` falls on one of the period's days (in the hub's timezone)."""
        return self.first <= self.local_day(moment) <= self.last

    def local_day(self, moment: datetime) -> date:
        """The hub's day of `moment`."""
        return moment.astimezone(self.zone).date()

    def label(self, moment: datetime, grouping: Grouping) -> str:
        """The group `moment` falls in: '2026-04-07', '2026-W15' (ISO week) or '2026-04'."""
        return label_of(self.local_day(moment), grouping)

    def labels(self, grouping: Grouping) -> list[str]:
        """Every group of the period, in order (also the ones with nothing in them)."""
        seen: list[str] = []
        day = self.first
        while day <= self.last:
            label = label_of(day, grouping)
            if not seen or seen[-1] != label:
                seen.append(label)
            day += timedelta(days=1)
        return seen

    def start(self) -> datetime:
        """The period's first moment."""
        return datetime.combine(self.first, datetime.min.time(), tzinfo=self.zone)

    def end(self) -> datetime:
        """The moment just after the period (midnight after its last day)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=self.zone)


def label_of(day: date, grouping: Grouping) -> str:
    """A day's group label."""
    if grouping is Grouping.DAY:
        return day.isoformat()
    if grouping is Grouping.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"
