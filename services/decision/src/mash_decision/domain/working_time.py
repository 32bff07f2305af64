"""Working time for the desk: the hub's working calendar and the 24/7 clock.

The calendar lives in mash_runtime.working_time, shared with insight, which reports performance on the
same calendar; this module keeps the desk's names for it.
"""

from mash_runtime.working_time import (
    ContinuousCalendar,
    HubClock,
    NaiveTimeRefused,
    NoWorkingDays,
    Weekday,
    WorkingCalendar,
    WorkingHours,
)

__all__ = [
    "ContinuousCalendar",
    "HubClock",
    "NaiveTimeRefused",
    "NoWorkingDays",
    "Weekday",
    "WorkingCalendar",
    "WorkingHours",
]
