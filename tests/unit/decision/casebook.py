"""Referrals, enquiry outcomes and addenda shaped like the scenarios, for the desk's unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mash_schemas import (
    AgencyFindings,
    AllocatedWorker,
    BragRating,
    Concern,
    ConcernCategory,
    Consent,
    ConsentStatus,
    EnquiryAddendum,
    EnquiryOutcome,
    HouseholdMember,
    InformationItem,
    Referral,
    Referrer,
    ReleaseCondition,
    SealedItem,
    Sensitivity,
    Subject,
    SubjectMatch,
    SuggestedRating,
)

LONDON = ZoneInfo("Europe/London")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in London."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def referral(
    referral_id: str = "ref-1",
    *,
    received_at: datetime | None = None,
    suggested: BragRating = BragRating.GREEN,
    allocated_worker: AllocatedWorker | None = None,
    public_referrer: bool = False,
) -> Referral:
    """A police referral about one boy (scenario 1's shape), optionally already allocated."""
    matches = []
    if allocated_worker is not None:
        matches.append(
            SubjectMatch(
                subject_id="s1",
                person_ref="LA-991",
                confidence=0.97,
                reasons=["same name and date of birth"],
                allocated_worker=allocated_worker,
            )
        )
    return Referral(
        referral_id=referral_id,
        source="api",
        received_at=received_at or london(2026, 3, 10, 10, 0),
        referrer=Referrer(
            role="member of the public" if public_referrer else "police officer",
            agency=None if public_referrer else "Devon and Cornwall Police",
            name="Sam Reed",
            email="sam.reed@example.org",
            is_member_of_public=public_referrer,
        ),
        subjects=[Subject(subject_id="s1", given_name="Kai", family_name="Turner")],
        household=[HouseholdMember(given_name="Dee", family_name="Turner", relationship="mother")],
        concern=Concern(categories=[ConcernCategory.OFFENDING_BEHAVIOUR], narrative="Suspected of stealing a bike."),
        consent=Consent(status=ConsentStatus.NOT_SOUGHT, reason="police matter", recorded_by="PC Reed"),
        suggested_rating=SuggestedRating(rating=suggested, reasons=["low-level offending"]),
        matches=matches,
    )


def item(item_id: str, summary: str, *, sensitive: bool = False, about: str = "father") -> InformationItem:
    """An information item; a sensitive one carries a release condition (not permitted)."""
    if sensitive:
        return InformationItem(
            item_id=item_id,
            about=about,
            summary=summary,
            sensitivity=Sensitivity.SENSITIVE,
            release=ReleaseCondition(permitted=False, request_route="Ask the police public protection unit"),
        )
    return InformationItem(item_id=item_id, about=about, summary=summary, sensitivity=Sensitivity.NON_SENSITIVE)


def findings(
    agency: str, rating: BragRating | None, *items: InformationItem, at: datetime | None = None
) -> AgencyFindings:
    """An agency's collated answer; no rating and no items means it knows nothing of the family."""
    return AgencyFindings(
        agency=agency,
        outcome="information_held" if rating is not None else "nothing_known",
        rating=rating,
        responded_at=at or london(2026, 3, 10, 14, 0),
        items=list(items),
    )


def enquiry_outcome(
    *answers: AgencyFindings,
    sealed: list[SealedItem] | None = None,
    not_answered: list[str] | None = None,
    referral_id: str = "ref-1",
    enquiry_id: str = "enq-ref-1",
    completed_at: datetime | None = None,
) -> EnquiryOutcome:
    """The research desk's collated result."""
    silent = not_answered or []
    return EnquiryOutcome(
        enquiry_id=enquiry_id,
        referral_id=referral_id,
        completed_at=completed_at or london(2026, 3, 10, 15, 0),
        completion="due_time_passed" if silent else "all_answered",
        findings=list(answers),
        sealed=sealed or [],
        not_answered=silent,
    )


def addendum(answer: AgencyFindings, *, referral_id: str = "ref-1", enquiry_id: str = "enq-ref-1") -> EnquiryAddendum:
    """A late answer forwarded to the case file."""
    return EnquiryAddendum(enquiry_id=enquiry_id, referral_id=referral_id, findings=answer)


def scenario_1_outcome() -> EnquiryOutcome:
    """The bike theft: probation and health both amber."""
    return enquiry_outcome(
        findings("probation", BragRating.AMBER, item("prob-1", "Father in prison, release due 17 March 2026.")),
        findings(
            "health",
            BragRating.AMBER,
            item("gp-1", "Mother: mental-health history, missed two recent appointments.", about="mother"),
        ),
    )


def in_minutes(start: datetime, minutes: int) -> datetime:
    """`minutes` of elapsed time after `start`."""
    return start + timedelta(minutes=minutes)
