"""Tolerant readers of the hub's events: only the fields insight keeps, nothing else is even parsed.

The contract's own models (mash_schemas) are strict writers' models; each view reads the contract's current
version of its event (`reads_the_contract`), upcast as every other reader's is. Insight reads the same topics with
these narrower views, which ignore every field they do not name, as the architecture asks of a reader:
a producer may add fields without insight noticing, and the names, addresses, narratives, agency items
and sealed items that some of these events carry for their other readers never become objects here, so
they cannot reach insight's store or logs. Enumerations are read as text, so a value added to the contract
later is counted under its own name instead of stopping the consumer.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from mash_schemas.catalogue import EVENTS
from mash_schemas.envelope import EventEnvelope
from mash_schemas.evolution import event_type_of
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ViewT = TypeVar("ViewT", bound=type[EventEnvelope[Any]])


def reads_the_contract(view: ViewT) -> ViewT:
    """The view reads the version the contract's writers emit now, so an older event is upcast before it is read.

    Without this a view would stay at version 1 while the contract moved on, and insight would set aside as
    unsupported every event its writers emit at the new version. tests/unit/insight/test_readers_follow_the_contract.py
    also checks every field a view names against the contract's model.
    """
    view.SCHEMA_VERSION = EVENTS[event_type_of(view)].SCHEMA_VERSION
    return view


class View(BaseModel):
    """A view of part of an event: unknown fields ignored, immutable."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class AddressView(View):
    """Only the postcode (of which insight keeps the district)."""

    postcode: str | None = None


class SubjectView(View):
    """A subject's kind and postcode; no name, no date of birth."""

    kind: str = "child"
    address: AddressView | None = None


class HouseholdView(View):
    """A household member's postcode only."""

    address: AddressView | None = None


class ReferrerView(View):
    """How the contact came: the referrer's sector and whether a member of the public; never who."""

    sector: str | None = None
    is_member_of_public: bool = False


class ConcernView(View):
    """The concern's categories; never the narrative."""

    categories: list[str] = Field(default_factory=list)


class RatingView(View):
    """Intake's suggested rating; never its reasons."""

    rating: str


class MatchView(View):
    """A subject matched to the local authority's records: the person reference only."""

    person_ref: str


class TransferOriginView(View):
    """Where a transferred contact came from: the sending hub and its referral (nothing it shared)."""

    hub_id: str
    referral_id: str


class ReferralView(View):
    """referral.received as insight reads it."""

    referral_id: str
    source: str
    received_at: AwareDatetime
    referrer: ReferrerView
    subjects: list[SubjectView] = Field(default_factory=list)
    household: list[HouseholdView] = Field(default_factory=list)
    concern: ConcernView
    suggested_rating: RatingView
    matches: list[MatchView] = Field(default_factory=list)
    transferred_from: TransferOriginView | None = None


@reads_the_contract
class ReferralReceivedView(EventEnvelope[ReferralView]):
    """referral.received (mash.referral.received)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["referral.received"] = "referral.received"


class SafetyScaleView(View):
    """The sanctioned Signs of Safety analysis: its safety scale only, never a statement."""

    safety_scale: int


class DecisionView(View):
    """decision.made as insight reads it: outcome, ratings, times, route, who screened and decided, the safety
    scale, and whether each change of rating had a rationale; no rationale, no analysis text, no hand-off items."""

    decision_id: str
    referral_id: str
    decided_by: str | None = None
    decided_at: AwareDatetime
    referral_received_at: AwareDatetime
    rating: str
    outcome: str
    receiving_service: str
    within_timescale: bool = True
    route: str = "enquiry"
    agencies_consulted: list[str] = Field(default_factory=list)
    risk_analysis: SafetyScaleView | None = None
    suggested_rating: str | None = None
    screened_rating: str | None = None
    screened_by: str | None = None
    screening_rationale_recorded: bool | None = None
    rating_change_rationale_recorded: bool | None = None


@reads_the_contract
class DecisionMadeView(EventEnvelope[DecisionView]):
    """decision.made (mash.decision.made)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["decision.made"] = "decision.made"


class EnquiryView(View):
    """enquiry.opened as insight reads it: which agencies, by when; no subjects, no questions."""

    enquiry_id: str
    referral_id: str
    rating: str
    agencies: list[str]
    due_at: AwareDatetime


@reads_the_contract
class EnquiryOpenedView(EventEnvelope[EnquiryView]):
    """enquiry.opened (mash.enquiry.opened)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["enquiry.opened"] = "enquiry.opened"


class AnswerView(View):
    """One agency's answer: who and when, and whether it held anything; never its items."""

    agency: str
    outcome: str
    rating: str | None = None
    responded_at: AwareDatetime


class EnquiryOutcomeView(View):
    """enquiry.completed as insight reads it: who answered when, who did not; not `sealed`, not the items."""

    enquiry_id: str
    referral_id: str
    completed_at: AwareDatetime
    completion: str
    findings: list[AnswerView] = Field(default_factory=list)
    not_answered: list[str] = Field(default_factory=list)


@reads_the_contract
class EnquiryCompletedView(EventEnvelope[EnquiryOutcomeView]):
    """enquiry.completed (mash.enquiry.completed)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["enquiry.completed"] = "enquiry.completed"


class AddendumView(View):
    """enquiry.addendum as insight reads it: a late answer's agency and time."""

    enquiry_id: str
    referral_id: str
    findings: AnswerView


@reads_the_contract
class EnquiryAddendumView(EventEnvelope[AddendumView]):
    """enquiry.addendum (mash.enquiry.addendum)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["enquiry.addendum"] = "enquiry.addendum"


class AlertView(View):
    """case.timescale: a referral near or past its decision timescale."""

    referral_id: str
    rating: str
    status: str
    due_at: AwareDatetime


@reads_the_contract
class TimescaleAlertView(EventEnvelope[AlertView]):
    """case.timescale (mash.case.timescale)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["case.timescale"] = "case.timescale"


class AskerView(View):
    """Who asked for advice: their sector only."""

    sector: str


class ConsultationView(View):
    """consultation.recorded as insight reads it; not the question, not the advice, not who asked."""

    consultation_id: str
    recorded_at: AwareDatetime
    asked_by: AskerView
    categories: list[str] = Field(default_factory=list)
    led_to_contact: bool = False
    referral_id: str | None = None


@reads_the_contract
class ConsultationRecordedView(EventEnvelope[ConsultationView]):
    """consultation.recorded (mash.consultation.recorded)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["consultation.recorded"] = "consultation.recorded"


class PoliceNoticeView(View):
    """police.notification as insight reads it: which notice, of what type; no narrative, no people.

    Deliberately not mash_schemas.police.PoliceNotification: that is the writer's strict model, which would
    parse the notification's narrative and the people in it; this view names the four fields insight counts
    by, so nothing else of a police notification can reach insight's store or logs (see the module's note).
    """

    notification_id: str
    force: str
    notification_type: str
    incident_at: AwareDatetime


@reads_the_contract
class PoliceNotificationView(EventEnvelope[PoliceNoticeView]):
    """police.notification (mash.police.notification)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["police.notification"] = "police.notification"


class TransferNoticeView(View):
    """transfer.sent as insight reads it: which hub a contact went to, when, at what rating; no referrer."""

    transfer_id: str
    referral_id: str
    from_hub: str
    to_hub: str
    transferred_at: AwareDatetime
    rating: str


@reads_the_contract
class TransferSentView(EventEnvelope[TransferNoticeView]):
    """transfer.sent (mash.transfer.sent)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["transfer.sent"] = "transfer.sent"
