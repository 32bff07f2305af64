"""The facts insight keeps: one small record per thing that happened, keyed by its identity in the domain.

A fact holds identifiers, ratings, outcomes, times, sectors, concern categories and a postcode district:
nothing a person wrote, no name, no address, no agency item. Each is keyed by what makes it "the same
thing" (a referral, an enquiry, an agency's late answer to one enquiry, a consultation), so a redelivered
or replayed event finds its fact already there and changes nothing, and the figures computed from the
facts do not depend on the order in which topics were read.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mash_insight.readers import (
    AddendumView,
    AlertView,
    ConsultationView,
    DecisionView,
    EnquiryOutcomeView,
    EnquiryView,
    PoliceNoticeView,
    ReferralView,
    TransferNoticeView,
)

NOT_STATED = "not_stated"
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?[0-9][A-Z]{2}$")


class FactKind(StrEnum):
    """The kinds of fact, one collection each."""

    CONTACT = "contacts"
    DECISION = "decisions"
    ENQUIRY = "enquiries"
    ENQUIRY_OUTCOME = "enquiry_outcomes"
    LATE_ANSWER = "late_answers"
    ALERT = "timescale_alerts"
    CONSULTATION = "consultations"
    POLICE_NOTICE = "police_notifications"
    TRANSFER_OUT = "transfers_out"


class Fact(BaseModel):
    """A fact: immutable; unknown fields refused so nothing else is ever stored by mistake."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def key(self) -> str:
        """The fact's identity in the domain (its document id)."""
        raise NotImplementedError


def postcode_district(postcode: str | None) -> str | None:
    """The postcode's district (its outward code: 'EX4 1AB' -> 'EX4'); None when there is no valid postcode."""
    if not postcode:
        return None
    match = _POSTCODE.match(" ".join(postcode.upper().split()))
    return match.group(1) if match else None


class ContactFact(Fact):
    """A contact the hub accepted (referral.received)."""

    referral_id: str
    received_at: AwareDatetime
    source: str = Field(description="web_form, api or police_notification")
    sector: str = Field(description="The referrer's sector, 'public', or 'not_stated'.")
    suggested_rating: str
    categories: list[str]
    subject_kinds: list[str]
    person_refs: list[str] = Field(description="Matched references in the local authority's records, sorted.")
    district: str | None
    transferred_from: str | None = Field(None, description="The hub that transferred the contact here, if any.")

    def key(self) -> str:
        return self.referral_id


class DecisionFact(Fact):
    """The decision on a contact (decision.made); one per referral."""

    referral_id: str
    decision_id: str
    decided_at: AwareDatetime
    received_at: AwareDatetime
    rating: str
    outcome: str
    receiving_service: str
    route: str
    within_timescale: bool
    agencies_consulted: list[str]
    # Threshold consistency (issue 23); None on decisions made before the contract carried them.
    decided_by: str | None = None
    suggested_rating: str | None = None
    screened_rating: str | None = None
    screened_by: str | None = None
    screening_rationale_recorded: bool | None = None
    rating_change_rationale_recorded: bool | None = None
    safety_scale: int | None = Field(None, description="The sanctioned analysis's safety scale (0-10), if any.")

    def key(self) -> str:
        return self.referral_id


class EnquiryFact(Fact):
    """A MASH enquiry opened (enquiry.opened)."""

    enquiry_id: str
    referral_id: str
    opened_at: AwareDatetime
    rating: str
    agencies: list[str]
    due_at: AwareDatetime

    def key(self) -> str:
        return self.enquiry_id


class Answer(BaseModel):
    """One agency's answer: when, and whether it held anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str
    responded_at: AwareDatetime
    held_information: bool
    rating: str | None


class EnquiryOutcomeFact(Fact):
    """An enquiry completed (enquiry.completed): who answered in the window, who did not."""

    enquiry_id: str
    referral_id: str
    completed_at: AwareDatetime
    completion: str
    answers: list[Answer]
    not_answered: list[str]

    def key(self) -> str:
        return self.enquiry_id


class LateAnswerFact(Fact):
    """An agency's answer after its enquiry completed (enquiry.addendum)."""

    enquiry_id: str
    referral_id: str
    answer: Answer

    def key(self) -> str:
        return f"{self.enquiry_id}/{self.answer.agency}"


class AlertFact(Fact):
    """The desk's clock raised a near breach or a breach for a referral (case.timescale)."""

    referral_id: str
    rating: str
    status: str
    due_at: AwareDatetime
    raised_at: AwareDatetime

    def key(self) -> str:
        return f"{self.referral_id}/{self.status}"


class ConsultationFact(Fact):
    """Advice given without a referral (consultation.recorded)."""

    consultation_id: str
    recorded_at: AwareDatetime
    sector: str
    categories: list[str]
    led_to_contact: bool
    referral_id: str | None

    def key(self) -> str:
        return self.consultation_id


class PoliceNoticeFact(Fact):
    """A police notification sent to the hub's feed (police.notification), triaged by intake."""

    notification_id: str
    force: str
    notification_type: str
    incident_at: AwareDatetime
    sent_at: AwareDatetime

    def key(self) -> str:
        return f"{self.force}/{self.notification_id}"


class TransferOutFact(Fact):
    """A contact this hub transferred to another hub of the region (transfer.sent)."""

    transfer_id: str
    referral_id: str
    to_hub: str
    transferred_at: AwareDatetime
    rating: str

    def key(self) -> str:
        return self.transfer_id


FACT_MODELS: dict[FactKind, type[Fact]] = {
    FactKind.CONTACT: ContactFact,
    FactKind.DECISION: DecisionFact,
    FactKind.ENQUIRY: EnquiryFact,
    FactKind.ENQUIRY_OUTCOME: EnquiryOutcomeFact,
    FactKind.LATE_ANSWER: LateAnswerFact,
    FactKind.ALERT: AlertFact,
    FactKind.CONSULTATION: ConsultationFact,
    FactKind.POLICE_NOTICE: PoliceNoticeFact,
    FactKind.TRANSFER_OUT: TransferOutFact,
}


def kind_of(fact: Fact) -> FactKind:
    """The collection a fact belongs in."""
    for kind, model in FACT_MODELS.items():
        if type(fact) is model:
            return kind
    raise TypeError(f"not a fact: {type(fact).__name__}")


# ------------------------------------------------------------------ from the events


def _sector(referral: ReferralView) -> str:
    if referral.referrer.sector:
        return referral.referrer.sector
    if referral.source == "police_notification":
        return "police"
    if referral.referrer.is_member_of_public:
        return "public"
    return NOT_STATED


def _district(referral: ReferralView) -> str | None:
    """The district of the first subject with a postcode, else of the household's first."""
    for place in [*(s.address for s in referral.subjects), *(m.address for m in referral.household)]:
        district = postcode_district(place.postcode if place else None)
        if district:
            return district
    return None


def contact_fact(referral: ReferralView) -> ContactFact:
    """What insight keeps of a referral."""
    return ContactFact(
        referral_id=referral.referral_id,
        received_at=referral.received_at,
        source=referral.source,
        sector=_sector(referral),
        suggested_rating=referral.suggested_rating.rating,
        categories=sorted(set(referral.concern.categories)),
        subject_kinds=sorted({s.kind for s in referral.subjects}),
        person_refs=sorted({m.person_ref for m in referral.matches}),
        district=_district(referral),
        transferred_from=referral.transferred_from.hub_id if referral.transferred_from is not None else None,
    )


def transfer_out_fact(notice: TransferNoticeView) -> TransferOutFact:
    """What insight keeps of a transfer out: where to, when, the rating; never the referrer."""
    return TransferOutFact(transfer_id=notice.transfer_id, referral_id=notice.referral_id, to_hub=notice.to_hub,
                           transferred_at=notice.transferred_at, rating=notice.rating)


def decision_fact(decision: DecisionView) -> DecisionFact:
    """What insight keeps of a decision."""
    return DecisionFact(
        referral_id=decision.referral_id,
        decision_id=decision.decision_id,
        decided_at=decision.decided_at,
        received_at=decision.referral_received_at,
        rating=decision.rating,
        outcome=decision.outcome,
        receiving_service=decision.receiving_service,
        route=decision.route,
        within_timescale=decision.within_timescale,
        agencies_consulted=sorted(set(decision.agencies_consulted)),
        decided_by=decision.decided_by,
        suggested_rating=decision.suggested_rating,
        screened_rating=decision.screened_rating,
        screened_by=decision.screened_by,
        screening_rationale_recorded=decision.screening_rationale_recorded,
        rating_change_rationale_recorded=decision.rating_change_rationale_recorded,
        safety_scale=decision.risk_analysis.safety_scale if decision.risk_analysis is not None else None,
    )


def enquiry_fact(enquiry: EnquiryView, opened_at: datetime) -> EnquiryFact:
    """What insight keeps of an enquiry opened at `opened_at` (the event's time)."""
    return EnquiryFact(
        enquiry_id=enquiry.enquiry_id,
        referral_id=enquiry.referral_id,
        opened_at=opened_at,
        rating=enquiry.rating,
        agencies=sorted(set(enquiry.agencies)),
        due_at=enquiry.due_at,
    )


def enquiry_outcome_fact(outcome: EnquiryOutcomeView) -> EnquiryOutcomeFact:
    """What insight keeps of a completed enquiry."""
    return EnquiryOutcomeFact(
        enquiry_id=outcome.enquiry_id,
        referral_id=outcome.referral_id,
        completed_at=outcome.completed_at,
        completion=outcome.completion,
        answers=sorted(
            (Answer(agency=f.agency, responded_at=f.responded_at, held_information=f.outcome == "information_held",
                    rating=f.rating) for f in outcome.findings),
            key=lambda answer: answer.agency,
        ),
        not_answered=sorted(set(outcome.not_answered)),
    )


def late_answer_fact(addendum: AddendumView) -> LateAnswerFact:
    """What insight keeps of a late answer."""
    findings = addendum.findings
    return LateAnswerFact(
        enquiry_id=addendum.enquiry_id,
        referral_id=addendum.referral_id,
        answer=Answer(agency=findings.agency, responded_at=findings.responded_at,
                      held_information=findings.outcome == "information_held", rating=findings.rating),
    )


def alert_fact(alert: AlertView, raised_at: datetime) -> AlertFact:
    """What insight keeps of a timescale alert raised at `raised_at`."""
    return AlertFact(referral_id=alert.referral_id, rating=alert.rating, status=alert.status, due_at=alert.due_at,
                     raised_at=raised_at)


def consultation_fact(consultation: ConsultationView) -> ConsultationFact:
    """What insight keeps of a consultation."""
    return ConsultationFact(
        consultation_id=consultation.consultation_id,
        recorded_at=consultation.recorded_at,
        sector=consultation.asked_by.sector,
        categories=sorted(set(consultation.categories)),
        led_to_contact=consultation.led_to_contact,
        referral_id=consultation.referral_id,
    )


def police_notice_fact(notice: PoliceNoticeView, sent_at: datetime) -> PoliceNoticeFact:
    """What insight keeps of a police notification sent at `sent_at`."""
    return PoliceNoticeFact(notification_id=notice.notification_id, force=notice.force,
                            notification_type=notice.notification_type, incident_at=notice.incident_at,
                            sent_at=sent_at)
