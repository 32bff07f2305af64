"""A consultation as hub staff record it: a partner asked for advice before deciding whether to refer.

No referral is opened. The record says who asked, about what, the advice given and whether it led to
a contact, and travels as consultation.recorded so the hub's figures can count consultations.
"""

from __future__ import annotations

from datetime import datetime

from mash_schemas.common import ConcernCategory, ShortText
from mash_schemas.consultation import Consultation, ConsultationAsker, ConsultationText
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ConsultationSubmission(BaseModel):
    """What a hub worker records after giving advice (unknown fields are refused, naming the field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asked_by: ConsultationAsker
    categories: list[ConcernCategory] = Field(min_length=1, max_length=16)
    question: ConsultationText
    advice: ConsultationText
    led_to_contact: bool = False
    referral_id: ShortText | None = None

    @model_validator(mode="after")
    def _contact_only_if_it_led_to_one(self) -> ConsultationSubmission:
        if self.referral_id is not None and not self.led_to_contact:
            raise ValueError("referral_id names the contact a consultation led to: set led_to_contact too")
        return self


def build_consultation(
    submission: ConsultationSubmission, *, consultation_id: str, recorded_at: datetime, recorded_by: str
) -> Consultation:
    """The consultation intake publishes."""
    return Consultation(
        consultation_id=consultation_id,
        recorded_at=recorded_at,
        recorded_by=recorded_by,
        asked_by=submission.asked_by,
        categories=submission.categories,
        question=submission.question,
        advice=submission.advice,
        led_to_contact=submission.led_to_contact,
        referral_id=submission.referral_id,
    )
