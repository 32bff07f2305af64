"""Referral events: a contact accepted by intake, and information added to it before screening."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

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
from mash_schemas.items import ReleasedItem, WithheldItem
from mash_schemas.text import ItemText, LongLine, Rationale
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


HubId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,30}$")]


class TransferHistoryLine(Model):
    """One step the sending hub took on the contact, as its history said it (no rationale: it may quote)."""

    at: AwareDatetime
    what: LongLine


class TransferOrigin(Model):
    """Where a transferred contact came from: the link back to the sending hub, and what it passed on.

    Findings travel only in their releasable form; a sealed item only as a reference to the agency that
    holds it and how to ask (mash_schemas.items), never its content.
    """

    hub_id: HubId
    hub_name: ShortText
    referral_id: ShortText = Field(description="The contact's referral id in the sending hub.")
    transferred_at: AwareDatetime
    transferred_by: ShortText
    reason: Rationale
    sending_rating: BragRating = Field(description="The rating the sending hub had given (or suggested).")
    shared_findings: list[ReleasedItem] = Field(default_factory=list, max_length=200)
    sealed_references: list[WithheldItem] = Field(default_factory=list, max_length=200)
    history: list[TransferHistoryLine] = Field(default_factory=list, max_length=200)


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
    transferred_from: TransferOrigin | None = Field(
        None, description="Set when another hub transferred the contact here: the link back and what it shared.")


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
