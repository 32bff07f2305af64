"""Timescales: when a referral's decision and its enquiry are due, and whether the desk is on track.

The rules live in mash_runtime.timescales, shared with insight, which reports against the same targets;
this module keeps the desk's names for them.
"""

from mash_runtime.timescales import (
    DEFAULT_DECISION_TARGETS,
    DEFAULT_ENQUIRY_TARGETS,
    ONE_WORKING_DAY,
    ClockKind,
    Deadline,
    DeadlineClock,
    Target,
    TimescaleConfig,
    Timescales,
    TimescaleStatus,
)

__all__ = [
    "DEFAULT_DECISION_TARGETS",
    "DEFAULT_ENQUIRY_TARGETS",
    "ONE_WORKING_DAY",
    "ClockKind",
    "Deadline",
    "DeadlineClock",
    "Target",
    "TimescaleConfig",
    "TimescaleStatus",
    "Timescales",
]
