"""Alerts from the manager's desk clock: a referral near or past its timescale."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime

from mash_schemas.common import BragRating, Model, ShortText
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import TIMESCALE_ALERT


class TimescaleAlert(Model):
    """A referral's decision is near or past its target (hub target per rating, or one working day)."""

    referral_id: ShortText
    rating: BragRating
    target: ShortText
    due_at: AwareDatetime
    status: Literal["near_breach", "breached"]
    working_minutes_left: int


class TimescaleAlertRaised(EventEnvelope[TimescaleAlert]):
    """The clock watcher raised a near-breach or breach."""

    TOPIC: ClassVar[str] = TIMESCALE_ALERT
    event_type: Literal["case.timescale"] = "case.timescale"
