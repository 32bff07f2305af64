"""A consultation: a partner asked the hub for advice before deciding whether to refer.

Recorded by hub staff at intake; no referral is opened. It says who asked, about what, the advice
given and whether it led to a contact (and which, when known).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, EmailStr, Field

from mash_schemas.common import ConcernCategory, Model, ReferrerSector, ShortText
from mash_schemas.envelope import EventEnvelope
from mash_schemas.text import Rationale
from mash_schemas.topics import CONSULTATION_RECORDED

ConsultationText = Rationale


class ConsultationAsker(Model):
    """The professional (or member of the public) who asked for advice."""

    name: ShortText
    role: ShortText = Field(description="e.g. 'designated safeguarding lead', 'health visitor'.")
    organisation: ShortText | None = None
    sector: ReferrerSector
    email: EmailStr | None = None


class Consultation(Model):
    """Advice the hub gave without opening a referral."""

    consultation_id: ShortText
    recorded_at: AwareDatetime
    recorded_by: ShortText = Field(description="The hub worker who gave the advice.")
    asked_by: ConsultationAsker
    categories: list[ConcernCategory] = Field(min_length=1, max_length=16, description="What it was about.")
    question: ConsultationText = Field(description="The question, as the worker noted it.")
    advice: ConsultationText
    led_to_contact: bool = Field(description="Whether the advice was to make a contact, and one was made.")
    referral_id: ShortText | None = Field(None, description="The contact it led to, when known.")


class ConsultationRecorded(EventEnvelope[Consultation]):
    """The hub gave advice on a consultation (no referral opened)."""

    TOPIC: ClassVar[str] = CONSULTATION_RECORDED
    event_type: Literal["consultation.recorded"] = "consultation.recorded"
