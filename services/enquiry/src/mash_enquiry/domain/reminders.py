"""When agencies that have not answered are chased: reminder points within an enquiry's window.

A point is either a share of the window that has elapsed (0.5 = half-way from opening to the due
time) or a fixed time before the due time (PT2H = two hours before). The hub's default chases at 50%
and 85% of the window, which suits both a red enquiry due in hours and an amber one due in a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ElapsedPoint(_Config):
    """Remind when this share of the window (opening to due time) has elapsed."""

    elapsed: Annotated[float, Field(gt=0, lt=1, description="Share of the window, e.g. 0.5 for half-way.")]

    def moment(self, opened_at: datetime, due_at: datetime) -> datetime:
        """The moment this point falls at for a window from `opened_at` to `due_at`."""
        return opened_at + (due_at - opened_at) * self.elapsed


class BeforeDuePoint(_Config):
    """Remind this long before the due time (ISO-8601 duration such as PT2H, or seconds)."""

    before_due: timedelta

    @field_validator("before_due")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("before_due must be a positive duration")
        return value

    def moment(self, opened_at: datetime, due_at: datetime) -> datetime:
        """The moment this point falls at; `opened_at` is unused but keeps the points interchangeable."""
        return due_at - self.before_due


ReminderPoint = ElapsedPoint | BeforeDuePoint


class ReminderPolicy(_Config):
    """The hub's reminder points; reminder N is the N-th of them in time order within a window."""

    points: tuple[ReminderPoint, ...] = Field(
        default=(ElapsedPoint(elapsed=0.5), ElapsedPoint(elapsed=0.85)), max_length=10
    )

    def reminder_times(self, opened_at: datetime, due_at: datetime) -> list[datetime]:
        """The reminder moments for one enquiry, earliest first.

        Points that fall at or before the opening are dropped (a fixed "2 hours before" point in a
        one-hour red window would otherwise chase an agency the moment it was asked), as are points
        at or after the due time, when the enquiry completes instead.
        """
        moments = {point.moment(opened_at, due_at) for point in self.points}
        return sorted(moment for moment in moments if opened_at < moment < due_at)
