"""A neighbouring hub's enquiry, answered from this hub's case files as an agency would answer it.

In a region every hub is a virtual member of the others' enquiries (agency id `hub-<id>`): the request
carries the subjects, and this hub says what it knows of them, through the agency contract: whether a
contact is open here now, the outcome of each contact decided in the last twelve months (a child
protection outcome is the nearest this desk has to "on a plan"), how many contacts there were, and which
team to call. Nothing an agency told this hub crosses: only the desk's own records, labelled. Outcomes and
allocated workers are sensitive: the asking hub's screeners see them; they leave that hub only in the
permitted wording (the team to call), never the detail.
Pure: the desk finds the case files (by subject keys) and publishes what this returns.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from mash_schemas import (
    AgencyResponse,
    BragRating,
    EnquiryRequest,
    InformationItem,
    ReleaseCondition,
    Sensitivity,
    Subject,
)

from mash_decision.domain.case_file import CaseFile, CaseState

LOOK_BACK = timedelta(days=365)
OPEN_STATES = frozenset({CaseState.AWAITING_SCREENING, CaseState.AWAITING_DECISION, CaseState.ENQUIRY_OPEN})


def subject_keys(subject: Subject) -> list[str]:
    """Pseudonymous keys a case file is found by: its NHS number, and its name with date of birth.

    Hashed, so the index beside the sealed case file names nobody in clear.
    """
    keys = []
    if subject.nhs_number:
        keys.append(f"nhs:{subject.nhs_number}")
    born = subject.date_of_birth or subject.expected_date
    if born is not None:
        keys.append(f"name:{subject.family_name.casefold()}|{(subject.given_name or '').casefold()}|{born.isoformat()}")
    return [hashlib.sha256(key.encode()).hexdigest() for key in keys]


def case_subject_keys(case: CaseFile) -> list[str]:
    """Every key of every subject of the case (the store keeps them for the neighbour's search)."""
    return sorted({key for subject in case.referral.subjects for key in subject_keys(subject)})


def request_subject_keys(request: EnquiryRequest) -> list[str]:
    """The keys of the subjects a neighbouring hub asks about."""
    return sorted({key for subject in request.subjects for key in subject_keys(subject)})


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def neighbour_answer(
    request: EnquiryRequest, cases: list[CaseFile], *, hub_name: str, agency: str, now: datetime
) -> AgencyResponse:
    """This hub's answer to `request` (the cases found for its subjects), as agency `agency` (hub-<id>)."""
    route = f"Ask {hub_name}'s MASH manager"
    recent = sorted((case for case in cases if case.referral.received_at >= now - LOOK_BACK
                     or case.state in OPEN_STATES), key=lambda case: case.referral.received_at)
    base = dict(request_id=request.request_id, enquiry_id=request.enquiry_id, referral_id=request.referral_id,
                agency=agency, responded_by=f"{hub_name} (automatic answer from its records)", responded_at=now)
    if not recent:
        return AgencyResponse(**base, outcome="nothing_known")
    items: list[InformationItem] = []
    about = ", ".join(" ".join(filter(None, (s.given_name, s.family_name))) for s in request.subjects)[:200]
    dates = ", ".join(_day(case.referral.received_at) for case in recent)
    items.append(InformationItem(
        item_id="contacts-12-months", about=about, sensitivity=Sensitivity.NON_SENSITIVE,
        summary=f"{len(recent)} contact(s) at {hub_name}'s front door in the last twelve months: {dates}."))
    for case in recent:
        when = _day(case.referral.received_at)
        if case.state in OPEN_STATES:
            items.append(InformationItem(
                item_id=f"open-{case.referral_id}"[:64], about=about, sensitivity=Sensitivity.NON_SENSITIVE,
                summary=f"A contact received {when} is open at {hub_name}'s front door "
                        f"({case.state.value.replace('_', ' ')}, rated {case.rating.value})."))
        elif case.decision is not None:
            decision = case.decision
            items.append(InformationItem(
                item_id=f"outcome-{case.referral_id}"[:64], about=about, sensitivity=Sensitivity.SENSITIVE,
                summary=f"Contact of {when} decided {_day(decision.decided_at)}: "
                        f"{decision.outcome.value.replace('_', ' ')} ({decision.rating.value}), "
                        f"passed to {decision.receiving_service}.",
                rating_reason=f"{hub_name} rated it {decision.rating.value}",
                release=ReleaseCondition(
                    permitted=True, request_route=route,
                    permitted_wording=f"{hub_name} decided a contact about this family in the last twelve months; "
                                      f"for the outcome, {route.lower()}.")))
        elif case.transfer is not None:
            items.append(InformationItem(
                item_id=f"transferred-{case.referral_id}"[:64], about=about, sensitivity=Sensitivity.NON_SENSITIVE,
                summary=f"A contact received {when} was transferred to {case.transfer.to_hub_name}."))
        worker = case.allocated_worker
        if worker is not None:
            items.append(InformationItem(
                item_id=f"allocated-{case.referral_id}"[:64], about=about, sensitivity=Sensitivity.SENSITIVE,
                summary=f"Allocated to {worker.name}, {worker.team}"
                        + (f" ({worker.email})" if worker.email else "") + ".",
                release=ReleaseCondition(permitted=True, request_route=route,
                                         permitted_wording=f"Allocated team at {hub_name}: {worker.team}.")))
    rating = max((case.rating for case in recent), key=lambda brag: brag.severity, default=BragRating.GREEN)
    return AgencyResponse(**base, outcome="information_held", rating=rating, items=items[:100])
