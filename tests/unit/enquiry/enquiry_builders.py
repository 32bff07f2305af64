"""Builders for the enquiry unit tests: a realistic enquiry, agency answers and a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from mash_enquiry.domain.fanout import request_id_for
from mash_schemas import (
    Address,
    AgencyResponse,
    BragRating,
    Consent,
    ConsentStatus,
    Enquiry,
    HouseholdMember,
    InformationItem,
    ReleaseCondition,
    Sensitivity,
    Subject,
)

OPENED_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DUE_AT = OPENED_AT + timedelta(hours=10)
ENQUIRY_ID = "enq-0001"
REFERRAL_ID = "ref-0001"
OPENED_BY = "Priya Manager-Opened"
RECORDED_BY = "Sam Recorder-Consent"


def an_enquiry(agencies: list[str] | None = None, **changes: Any) -> Enquiry:
    """An amber enquiry about a boy, his mother and father, to police, health and education."""
    fields: dict[str, Any] = {
        "enquiry_id": ENQUIRY_ID,
        "referral_id": REFERRAL_ID,
        "rating": BragRating.AMBER,
        "agencies": agencies or ["police", "health", "education"],
        "due_at": DUE_AT,
        "subjects": [
            Subject(
                subject_id="subj-1",
                given_name="Kai",
                family_name="Turner",
                date_of_birth=date(2013, 6, 1),
                nhs_number="9434765919",
                address=Address(lines=["12 Mill Lane"], town="Exeter", postcode="EX1 2AB"),
            )
        ],
        "household": [
            HouseholdMember(
                given_name="Dana",
                family_name="Turner",
                relationship="mother",
                date_of_birth=date(1988, 2, 14),
                address=Address(lines=["12 Mill Lane"], town="Exeter", postcode="EX1 2AB"),
            )
        ],
        "questions": ["Is anything known about the household?"],
        "consent": Consent(status=ConsentStatus.GIVEN, recorded_by=RECORDED_BY, recorded_at=OPENED_AT),
        "lawful_basis": "Children Act 1989 s17 with consent",
        "opened_by": OPENED_BY,
    }
    fields.update(changes)
    return Enquiry(**fields)


def shareable(item_id: str, summary: str) -> InformationItem:
    """A non-sensitive item."""
    return InformationItem(item_id=item_id, about="Kai Turner", summary=summary, sensitivity=Sensitivity.NON_SENSITIVE)


def sensitive(item_id: str, summary: str, wording: str | None = None) -> InformationItem:
    """A sensitive item, releasable only in `wording` if given."""
    release = ReleaseCondition(
        permitted=wording is not None,
        permitted_wording=wording,
        request_route="Ask the police MASH desk on 01392 000000",
    )
    return InformationItem(
        item_id=item_id, about="mother's partner", summary=summary, sensitivity=Sensitivity.SENSITIVE, release=release
    )


def an_answer(
    agency: str,
    items: list[InformationItem] | None = None,
    *,
    at: datetime | None = None,
    enquiry_id: str = ENQUIRY_ID,
    referral_id: str = REFERRAL_ID,
    request_id: str | None = None,
    rating: BragRating | None = BragRating.AMBER,
) -> AgencyResponse:
    """`agency`'s answer: information held when items are given, else nothing known."""
    outcome: Literal["information_held", "nothing_known"] = "information_held" if items else "nothing_known"
    return AgencyResponse(
        request_id=request_id or request_id_for(enquiry_id, agency),
        enquiry_id=enquiry_id,
        referral_id=referral_id,
        agency=agency,
        responded_by=f"{agency} researcher",
        responded_at=at or OPENED_AT + timedelta(hours=1),
        outcome=outcome,
        rating=rating if items else None,
        items=items or [],
    )
