"""Roles at the desk, and the case-file view that keeps sealed items inside the hub."""

from __future__ import annotations

import pytest
from mash_decision.domain.case_file import CaseFile
from mash_decision.domain.case_file_views import WITHHELD, case_file_view, without_sealed_items
from mash_decision.domain.roles import DeskAction, NotPermitted, may
from mash_decision.domain.timescales import Timescales
from mash_runtime.roles import Role
from mash_schemas import BragRating, ConsentStatus, Outcome, SealedItem

from tests.unit.decision.casebook import addendum, enquiry_outcome, findings, item, london, referral

pytestmark = pytest.mark.unit

TIMESCALES = Timescales()
SECRET = "Police intelligence: suspected (not convicted) sex offender visits the address."


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.SCREENER, DeskAction.SCREEN, True),
        (Role.MANAGER, DeskAction.SCREEN, True),
        (Role.ANALYST, DeskAction.SCREEN, False),
        (Role.MANAGER, DeskAction.DECIDE, True),
        (Role.SCREENER, DeskAction.DECIDE, False),
        (Role.ANALYST, DeskAction.READ_CASE_FILE, True),
        (Role.ANALYST, DeskAction.READ_SEALED_ITEMS, False),
        (Role.AGENCY, DeskAction.READ_CASE_FILE, False),
        (Role.AGENCY, DeskAction.SCREEN, False),
    ],
)
def test_who_may_do_what(role: Role, action: DeskAction, allowed: bool) -> None:
    assert may(role, action) is allowed


def sealed_case(public_referrer: bool = False) -> CaseFile:
    now = london(2026, 3, 10, 11, 0)
    case = CaseFile.open(referral(public_referrer=public_referrer, suggested=BragRating.RED), TIMESCALES, now)
    case.screen(
        "Jo Screener", Role.SCREENER, confirmed_rating=BragRating.RED, rationale=None, now=now, timescales=TIMESCALES,
    )
    case.open_enquiry(
        "Alex Manager",
        Role.MANAGER,
        agencies=["police", "education"],
        consent_check=ConsentStatus.NOT_SOUGHT,
        proceed_without_consent_reason="Would alert the suspect.",
        questions=[],
        now=now,
        timescales=TIMESCALES,
    )
    case.record_enquiry_outcome(
        enquiry_outcome(
            findings("police", BragRating.RED),
            findings("education", BragRating.AMBER, item("e-1", "A child lives at the address.", about="child")),
            sealed=[SealedItem(agency="police", item=item("p-9", SECRET, sensitive=True))],
        )
    )
    case.add_addendum(
        addendum(
            findings("health", BragRating.AMBER, item("h-1", "Registered with the GP.", about="child"))
        ).model_copy(
            update={"sealed": [SealedItem(agency="health", item=item("h-9", "Sealed health note.", sensitive=True))]}
        ),
        now,
    )
    case.decide(
        "Alex Manager",
        Role.MANAGER,
        outcome=Outcome.CHILD_PROTECTION,
        receiving_service=None,
        rationale="Strategy discussion today.",
        handoff_item_ids=["education:e-1"],
        now=now,
    )
    return case


def test_inside_the_hub_the_case_file_is_whole() -> None:
    case = sealed_case()
    assert case_file_view(case, Role.MANAGER) is case
    assert SECRET in str(case_file_view(case, Role.SCREENER).to_document())
    assert case.decision is not None
    assert [(w.agency, w.item_id) for w in case.decision.withheld_items] == [("police", "p-9"), ("health", "h-9")]


def test_an_analyst_sees_no_sealed_item_anywhere_in_the_case_file() -> None:
    case = sealed_case()
    view = case_file_view(case, Role.ANALYST)
    text = str(view.to_document())
    assert SECRET not in text
    assert "Sealed health note." not in text
    assert "A child lives at the address." in text
    assert view.decision is not None
    assert [shared.item_id for shared in view.decision.released_items] == ["e-1"]
    assert all(shared.basis == "non_sensitive" for shared in view.decision.released_items)
    assert view.decision.withheld_items == []
    # The hub's own copy is untouched.
    assert case.enquiry_outcome is not None
    assert len(case.enquiry_outcome.sealed) == 1


def test_an_agency_may_not_read_the_case_file() -> None:
    with pytest.raises(NotPermitted):
        case_file_view(sealed_case(), Role.AGENCY)


def test_a_member_of_the_publics_identity_is_withheld_outside_the_hub() -> None:
    view = without_sealed_items(sealed_case(public_referrer=True))
    assert view.referral.referrer.name == WITHHELD
    assert view.referral.referrer.email is None
    assert view.decision is not None
    assert view.decision.referrer.name == WITHHELD
    professional = without_sealed_items(sealed_case(public_referrer=False))
    assert professional.referral.referrer.name == "Sam Reed"
