"""MASH enquiry events: opened by the manager's desk, fanned out to agencies, completed with findings."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.agency import InformationItem
from mash_schemas.common import AgencyName, BragRating, Consent, HouseholdMember, Model, ShortText, Subject
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import ENQUIRY_ADDENDUM, ENQUIRY_COMPLETED, ENQUIRY_OPENED


class Enquiry(Model):
    """An enquiry the MASH manager opened: which agencies, by when, on what lawful basis."""

    enquiry_id: ShortText
    referral_id: ShortText
    rating: BragRating
    agencies: list[AgencyName] = Field(min_length=1, max_length=30)
    due_at: AwareDatetime
    subjects: list[Subject] = Field(min_length=1)
    household: list[HouseholdMember] = Field(default_factory=list)
    questions: list[ShortText] = Field(default_factory=list)
    consent: Consent = Field(description="Consent as re-checked before the enquiry.")
    lawful_basis: ShortText = Field(description="e.g. 'Children Act 1989 s17 with consent', 's47 without consent'.")
    opened_by: ShortText


class EnquiryOpened(EventEnvelope[Enquiry]):
    """The MASH manager opened an enquiry with chosen agencies."""

    TOPIC: ClassVar[str] = ENQUIRY_OPENED
    event_type: Literal["enquiry.opened"] = "enquiry.opened"


class EnquiryRequest(Model):
    """What one agency needs to search its records: data minimised to identifying details."""

    request_id: ShortText
    enquiry_id: ShortText
    referral_id: ShortText
    agency: AgencyName
    subjects: list[Subject] = Field(min_length=1)
    household: list[HouseholdMember] = Field(default_factory=list)
    questions: list[ShortText] = Field(default_factory=list)
    due_at: AwareDatetime
    lawful_basis: ShortText
    consent_position: ShortText
    reminder_number: int = Field(0, ge=0, description="0 for the request itself, 1.. for reminders.")


class EnquiryRequested(EventEnvelope[EnquiryRequest]):
    """The research desk asked an agency, on mash.enquiry.request.<agency>."""

    event_type: Literal["enquiry.request"] = "enquiry.request"


class AgencyFindings(Model):
    """An agency's answer as collated: its rating and its non-sensitive items."""

    agency: AgencyName
    outcome: Literal["information_held", "nothing_known"]
    rating: BragRating | None = None
    responded_at: AwareDatetime
    items: list[InformationItem] = Field(default_factory=list, description="Non-sensitive items only.")


class SealedItem(Model):
    """A sensitive item: stays inside the hub unless its agency's release condition permits."""

    agency: AgencyName
    item: InformationItem


class EnquiryOutcome(Model):
    """The collated result of an enquiry. `findings` is the part that may be shared; `sealed` is not."""

    enquiry_id: ShortText
    referral_id: ShortText
    completed_at: AwareDatetime
    completion: Literal["all_answered", "due_time_passed"]
    findings: list[AgencyFindings] = Field(default_factory=list)
    sealed: list[SealedItem] = Field(default_factory=list)
    not_answered: list[AgencyName] = Field(default_factory=list)


class EnquiryCompleted(EventEnvelope[EnquiryOutcome]):
    """Every agency answered, or the due time passed; carries the collated findings."""

    TOPIC: ClassVar[str] = ENQUIRY_COMPLETED
    event_type: Literal["enquiry.completed"] = "enquiry.completed"


class EnquiryAddendum(Model):
    """An agency's answer that arrived after the enquiry completed: kept, never dropped."""

    enquiry_id: ShortText
    referral_id: ShortText
    findings: AgencyFindings
    sealed: list[SealedItem] = Field(default_factory=list)


class EnquiryAddendumRecorded(EventEnvelope[EnquiryAddendum]):
    """A late agency answer, forwarded to the case file as an addendum."""

    TOPIC: ClassVar[str] = ENQUIRY_ADDENDUM
    event_type: Literal["enquiry.addendum"] = "enquiry.addendum"
