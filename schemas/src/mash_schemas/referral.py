"""Referral events: a contact accepted by intake, and information added to it before screening."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.common import (
    AllocatedWorker,
    BragRating,
    ConcernCategory,
    Consent,
    HouseholdMember,
    Model,
    Referrer,
    ShortText,
    Subject,
)
from mash_schemas.envelope import EventEnvelope
from mash_schemas.governance import LawfulBasis
from mash_schemas.text import ItemText
from mash_schemas.text import Narrative as Narrative
from mash_schemas.topics import REFERRAL_AMENDED, REFERRAL_RECEIVED


class Concern(Model):
    """What the referrer is worried about: categories from the form plus their own words."""

    categories: list[ConcernCategory] = Field(min_length=1, max_length=16)
    narrative: Narrative
    actions_taken: ItemText | None = Field(
        None, description="What the referrer has already done (spoken to parent, called police, ...)."
    )


class SuggestedRating(Model):
    """Intake's initial BRAG suggestion from the Level of Needs table, with the reasons shown."""

    rating: BragRating
    reasons: list[str] = Field(default_factory=list)


class SubjectMatch(Model):
    """A subject matched to a person the hub already knows, with confidence and reasons."""

    subject_id: str
    person_ref: ShortText = Field(description="Id in the local authority's case system.")
    confidence: float = Field(ge=0, le=1)
    reasons: list[str] = Field(default_factory=list)
    allocated_worker: AllocatedWorker | None = None


class Referral(Model):
    """A contact that needs the hub, as intake accepted it."""

    referral_id: ShortText
    source: Literal["web_form", "api", "police_notification"]
    received_at: AwareDatetime
    referrer: Referrer
    subjects: list[Subject] = Field(min_length=1, max_length=20)
    household: list[HouseholdMember] = Field(default_factory=list, max_length=30)
    concern: Concern
    consent: Consent
    suggested_rating: SuggestedRating
    matches: list[SubjectMatch] = Field(default_factory=list)
    linked_referrals: list[str] = Field(
        default_factory=list, description="Earlier contacts about the same subject within the linking window."
    )
    lawful_basis: LawfulBasis | None = Field(
        None, description="The basis the hub holds this contact on (intake's configuration when received).")


class ReferralReceived(EventEnvelope[Referral]):
    """Intake accepted a contact as a referral for screening."""

    TOPIC: ClassVar[str] = REFERRAL_RECEIVED
    event_type: Literal["referral.received"] = "referral.received"


class ReferralAmendment(Model):
    """Information a referrer corrected or added before screening."""

    referral_id: ShortText
    amended_by: ShortText
    amended_at: AwareDatetime
    additional_information: Narrative | None = None
    household_added: list[HouseholdMember] = Field(default_factory=list, max_length=30)
    consent: Consent | None = None


class ReferralAmended(EventEnvelope[ReferralAmendment]):
    """A referral was corrected or added to before screening."""

    TOPIC: ClassVar[str] = REFERRAL_AMENDED
    event_type: Literal["referral.amended"] = "referral.amended"
