"""The case file: its steps from referral to decision, each rule the desk enforces, and its stored form."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from mash_decision.domain.case_file import (
    AmendmentAfterScreening,
    CaseFile,
    CaseState,
    ConsentNotRechecked,
    DecisionAlreadyMade,
    DecisionNeedsRationale,
    EnquiryAlreadyCompleted,
    EnquiryNotOnCase,
    HandoffItemNotOnCase,
    HandoffItemNotReleasable,
    NoAgenciesChosen,
    NoAllocatedWorker,
    NotThisReferral,
    RatingChangeNeedsRationale,
    StepOutOfOrder,
)
from mash_decision.domain.case_file_views import case_file_view, handoff_choices
from mash_decision.domain.roles import NotPermitted
from mash_decision.domain.timescales import Timescales
from mash_runtime.roles import Role
from mash_schemas import (
    AllocatedWorker,
    BragRating,
    Consent,
    ConsentStatus,
    HouseholdMember,
    InformationItem,
    Outcome,
    ReferralAmendment,
    ReleaseCondition,
    SealedItem,
    Sensitivity,
)

from tests.unit.decision.casebook import (
    addendum,
    enquiry_outcome,
    findings,
    item,
    london,
    referral,
    scenario_1_outcome,
)

pytestmark = pytest.mark.unit

TIMESCALES = Timescales()
RECEIVED = london(2026, 3, 10, 10, 0)
WORKER = AllocatedWorker(name="Priya Shah", team="Children in Need Team 2", email="priya.shah@example.org")


def new_case(**kwargs: Any) -> CaseFile:
    return CaseFile.open(referral(**kwargs), TIMESCALES, RECEIVED + timedelta(minutes=1))


def screened(rating: BragRating = BragRating.GREEN, **kwargs: Any) -> CaseFile:
    case = new_case(**kwargs)
    case.screen(
        "Jo Screener",
        Role.SCREENER,
        confirmed_rating=rating,
        rationale="agency checks needed" if rating is not BragRating.GREEN else None,
        now=london(2026, 3, 10, 10, 20),
        timescales=TIMESCALES,
    )
    return case


def with_open_enquiry(agencies: tuple[str, ...] = ("probation", "health")) -> CaseFile:
    case = screened()
    case.open_enquiry(
        "Alex Manager",
        Role.MANAGER,
        agencies=list(agencies),
        consent_check=ConsentStatus.GIVEN,
        proceed_without_consent_reason=None,
        questions=["Known to you?"],
        now=london(2026, 3, 10, 10, 30),
        timescales=TIMESCALES,
    )
    return case


def with_outcome() -> CaseFile:
    case = with_open_enquiry()
    case.record_enquiry_outcome(scenario_1_outcome())
    return case


def amendment(**changes: Any) -> ReferralAmendment:
    fields: dict[str, Any] = {"referral_id": "ref-1", "amended_by": "PC Reed", "amended_at": london(2026, 3, 10, 10, 5)}
    return ReferralAmendment(**{**fields, **changes})


# -- opening and amending ------------------------------------------------------------------------------


def test_a_new_case_awaits_screening_with_a_deadline_by_suggested_rating() -> None:
    case = new_case(suggested=BragRating.AMBER)
    assert case.state is CaseState.AWAITING_SCREENING
    assert case.rating is BragRating.AMBER
    assert case.decision_deadline.due_at == london(2026, 3, 11, 10, 0)
    assert case.history[0].by == "intake"
    assert "referral received" in case.history[0].what


def test_amendments_before_screening_add_to_the_household_and_update_consent() -> None:
    case = new_case()
    given = Consent(status=ConsentStatus.GIVEN, recorded_by="PC Reed")
    sibling = HouseholdMember(given_name="Ava", family_name="Turner", relationship="sister")
    assert case.amend(amendment(household_added=[sibling], consent=given))
    assert case.consent == given
    assert [member.given_name for member in case.household] == ["Dee", "Ava"]
    assert "household member(s) added" in case.history[-1].what


def test_a_repeated_amendment_is_recorded_once() -> None:
    case = new_case()
    change = amendment(additional_information="He has a younger sister.")
    assert case.amend(change)
    assert not case.amend(change)
    assert len(case.amendments) == 1


def test_an_amendment_after_screening_is_refused() -> None:
    case = screened()
    with pytest.raises(AmendmentAfterScreening):
        case.amend(amendment(additional_information="Late news."))


def test_an_amendment_for_another_referral_is_refused() -> None:
    with pytest.raises(NotThisReferral):
        new_case().amend(amendment(referral_id="ref-2", additional_information="Wrong case."))


# -- screening -------------------------------------------------------------------------------------


def test_screening_confirms_the_rating_without_a_rationale() -> None:
    case = screened(BragRating.GREEN)
    assert case.state is CaseState.AWAITING_DECISION
    assert case.screening is not None
    assert case.screening.confirmed_rating is BragRating.GREEN
    assert case.history[-1].role is Role.SCREENER


def test_changing_the_suggested_rating_needs_a_rationale() -> None:
    case = new_case()
    with pytest.raises(RatingChangeNeedsRationale):
        case.screen(
            "Jo Screener", Role.SCREENER, confirmed_rating=BragRating.RED, rationale="  ",
            now=london(2026, 3, 10, 10, 20), timescales=TIMESCALES,
        )
    assert case.state is CaseState.AWAITING_SCREENING


def test_raising_the_rating_to_red_moves_the_deadline_to_four_hours() -> None:
    case = new_case()
    case.screen(
        "Jo Screener", Role.SCREENER, confirmed_rating=BragRating.RED, rationale="Disclosure of harm.",
        now=london(2026, 3, 10, 10, 20), timescales=TIMESCALES,
    )
    assert case.decision_deadline.due_at == london(2026, 3, 10, 14, 0)
    assert case.history[-1].why == "Disclosure of harm."
    assert "changed from green to red" in case.history[-1].what


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AGENCY])
def test_only_the_hub_screens(role: Role) -> None:
    with pytest.raises(NotPermitted):
        new_case().screen(
            "someone", role, confirmed_rating=BragRating.GREEN, rationale=None, now=RECEIVED, timescales=TIMESCALES,
        )


def test_a_case_is_screened_once() -> None:
    with pytest.raises(StepOutOfOrder):
        screened().screen(
            "Jo Screener", Role.SCREENER, confirmed_rating=BragRating.GREEN, rationale=None, now=RECEIVED,
            timescales=TIMESCALES,
        )


# -- already allocated --------------------------------------------------------------------------------


def test_scenario_6_an_allocated_child_goes_straight_to_the_worker() -> None:
    case = new_case(allocated_worker=WORKER)
    decision = case.route_to_allocated_worker("routing rule", Role.SCREENER, now=london(2026, 3, 10, 10, 3))
    assert case.state is CaseState.ROUTED_TO_ALLOCATED_WORKER
    assert decision.outcome is Outcome.ALLOCATED_WORKER
    assert decision.route == "allocated_worker"
    assert decision.allocated_worker == WORKER
    assert decision.receiving_service == "allocated-worker"
    assert "Priya Shah" in decision.rationale
    assert decision.within_timescale
    with pytest.raises(DecisionAlreadyMade):
        case.decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None,
            rationale="Changed my mind.", handoff_item_ids=[], now=RECEIVED,
        )


def test_routing_needs_an_allocated_worker() -> None:
    with pytest.raises(NoAllocatedWorker):
        new_case().route_to_allocated_worker("Jo Screener", Role.SCREENER, now=RECEIVED)


def test_routing_is_a_screening_step() -> None:
    with pytest.raises(StepOutOfOrder):
        screened(allocated_worker=WORKER).route_to_allocated_worker("Jo Screener", Role.SCREENER, now=RECEIVED)


# -- enquiry -------------------------------------------------------------------------------------------


def test_an_enquiry_carries_rechecked_consent_the_household_and_a_due_time() -> None:
    case = new_case()
    case.amend(amendment(household_added=[HouseholdMember(family_name="Turner", relationship="father")]))
    case.screen(
        "Alex Manager",
        Role.MANAGER,
        confirmed_rating=BragRating.AMBER,
        rationale="Father due for release.",
        now=london(2026, 3, 10, 10, 20),
        timescales=TIMESCALES,
    )
    enquiry = case.open_enquiry(
        "Alex Manager",
        Role.MANAGER,
        agencies=["probation", "health", "probation"],
        consent_check=ConsentStatus.GIVEN,
        proceed_without_consent_reason=None,
        questions=[],
        now=london(2026, 3, 10, 10, 30),
        timescales=TIMESCALES,
    )
    assert case.state is CaseState.ENQUIRY_OPEN
    assert enquiry.agencies == ["probation", "health"]
    assert enquiry.rating is BragRating.AMBER
    assert enquiry.consent.status is ConsentStatus.GIVEN
    assert enquiry.consent.recorded_by == "Alex Manager"
    assert enquiry.lawful_basis == "Children Act 1989 s17 with consent"
    assert [member.relationship for member in enquiry.household] == ["mother", "father"]
    # Eight working hours would be Wednesday 10:30; the decision is due Wednesday 10:00, less an hour.
    assert enquiry.due_at == london(2026, 3, 11, 9, 0)
    assert enquiry.due_at <= case.decision_deadline.due_at


def test_an_enquiry_without_consent_records_the_reason() -> None:
    case = screened(BragRating.RED)
    enquiry = case.open_enquiry(
        "Alex Manager",
        Role.MANAGER,
        agencies=["police"],
        consent_check=ConsentStatus.REFUSED,
        proceed_without_consent_reason="Seeking consent would put the child at risk.",
        questions=[],
        now=london(2026, 3, 10, 10, 30),
        timescales=TIMESCALES,
    )
    assert enquiry.consent.status is ConsentStatus.REFUSED
    assert enquiry.consent.reason == "Seeking consent would put the child at risk."
    assert enquiry.lawful_basis == "Children Act 1989 s47 without consent"


@pytest.mark.parametrize("status", [None, ConsentStatus.REFUSED, ConsentStatus.NOT_SOUGHT])
def test_consent_must_be_rechecked_before_an_enquiry(status: ConsentStatus | None) -> None:
    case = screened()
    with pytest.raises(ConsentNotRechecked):
        case.open_enquiry(
            "Alex Manager", Role.MANAGER, agencies=["police"], consent_check=status,
            proceed_without_consent_reason=None, questions=[], now=RECEIVED, timescales=TIMESCALES,
        )
    assert case.enquiry is None


def test_an_enquiry_needs_agencies_a_manager_and_screening_first() -> None:
    with pytest.raises(NoAgenciesChosen):
        screened().open_enquiry(
            "Alex Manager", Role.MANAGER, agencies=[], consent_check=ConsentStatus.GIVEN,
            proceed_without_consent_reason=None, questions=[], now=RECEIVED, timescales=TIMESCALES,
        )
    with pytest.raises(NotPermitted):
        screened().open_enquiry(
            "Jo Screener", Role.SCREENER, agencies=["police"], consent_check=ConsentStatus.GIVEN,
            proceed_without_consent_reason=None, questions=[], now=RECEIVED, timescales=TIMESCALES,
        )
    with pytest.raises(StepOutOfOrder):
        new_case().open_enquiry(
            "Alex Manager", Role.MANAGER, agencies=["police"], consent_check=ConsentStatus.GIVEN,
            proceed_without_consent_reason=None, questions=[], now=RECEIVED, timescales=TIMESCALES,
        )
    with pytest.raises(StepOutOfOrder):
        with_open_enquiry().open_enquiry(
            "Alex Manager", Role.MANAGER, agencies=["police"], consent_check=ConsentStatus.GIVEN,
            proceed_without_consent_reason=None, questions=[], now=RECEIVED, timescales=TIMESCALES,
        )


def test_the_enquiry_outcome_moves_the_case_to_awaiting_decision_once() -> None:
    case = with_open_enquiry()
    assert case.record_enquiry_outcome(scenario_1_outcome())
    assert case.state is CaseState.AWAITING_DECISION
    assert not case.record_enquiry_outcome(scenario_1_outcome())
    with pytest.raises(EnquiryAlreadyCompleted):
        case.record_enquiry_outcome(enquiry_outcome(findings("health", None)))


def test_an_outcome_for_another_enquiry_is_refused() -> None:
    with pytest.raises(EnquiryNotOnCase):
        with_open_enquiry().record_enquiry_outcome(enquiry_outcome(enquiry_id="enq-other"))
    with pytest.raises(EnquiryNotOnCase):
        screened().record_enquiry_outcome(scenario_1_outcome())


# -- decision -------------------------------------------------------------------------------------------


def test_scenario_1_the_manager_decides_a_statutory_assessment_with_the_hand_off() -> None:
    case = with_outcome()
    recommendation = case.recommendation()
    assert recommendation is not None
    assert recommendation.rating is BragRating.AMBER
    decided_at = london(2026, 3, 10, 16, 0)
    decision = case.decide(
        "Alex Manager",
        Role.MANAGER,
        outcome=Outcome.STATUTORY_ASSESSMENT,
        receiving_service=None,
        rationale="Father's release and mother's health.",
        handoff_item_ids=["probation:prob-1", "gp-1"],
        now=decided_at,
    )
    assert case.state is CaseState.DECIDED
    assert decision.rating is BragRating.AMBER
    assert decision.receiving_service == "assessment-team"
    assert [(shared.agency, shared.item_id) for shared in decision.released_items] == [
        ("probation", "prob-1"),
        ("health", "gp-1"),
    ]
    assert decision.handoff_items == []
    assert decision.route == "enquiry"
    assert decision.agencies_consulted == ["probation", "health"]
    assert decision.within_timescale
    assert decision.referral_received_at == RECEIVED
    assert case.history[-1].role is Role.MANAGER
    assert case.history[-1].why == "Father's release and mother's health."


def test_a_second_decision_is_refused() -> None:
    case = with_outcome()
    case.decide(
        "Alex Manager", Role.MANAGER, outcome=Outcome.STATUTORY_ASSESSMENT, receiving_service=None, rationale="Assess.",
        handoff_item_ids=[], now=RECEIVED,
    )
    with pytest.raises(DecisionAlreadyMade):
        case.decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Again.",
            handoff_item_ids=[], now=RECEIVED,
        )


def test_deciding_now_after_screening_records_the_screening_route() -> None:
    case = screened(BragRating.BLUE)
    decision = case.decide(
        "Alex Manager",
        Role.MANAGER,
        outcome=Outcome.NO_FURTHER_ACTION,
        receiving_service=None,
        rationale="Information only.",
        handoff_item_ids=[],
        now=london(2026, 3, 11, 10, 30),
    )
    assert decision.route == "screening"
    assert decision.rating is BragRating.BLUE
    assert decision.receiving_service == "information-only"
    assert not decision.within_timescale


@pytest.mark.parametrize("role", [Role.SCREENER, Role.ANALYST, Role.AGENCY])
def test_only_a_manager_decides(role: Role) -> None:
    with pytest.raises(NotPermitted):
        with_outcome().decide(
            "someone", role, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Because.",
            handoff_item_ids=[], now=RECEIVED,
        )


def test_a_decision_needs_a_rationale() -> None:
    with pytest.raises(DecisionNeedsRationale):
        with_outcome().decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="   ",
            handoff_item_ids=[], now=RECEIVED,
        )


def test_no_decision_before_screening_or_while_the_enquiry_is_open() -> None:
    with pytest.raises(StepOutOfOrder):
        new_case().decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Quick.",
            handoff_item_ids=[], now=RECEIVED,
        )
    with pytest.raises(StepOutOfOrder):
        with_open_enquiry().decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Quick.",
            handoff_item_ids=[], now=RECEIVED,
        )


def test_hand_off_items_must_be_on_the_case() -> None:
    case = with_outcome()
    with pytest.raises(HandoffItemNotOnCase):
        case.decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Go.",
            handoff_item_ids=["police:p-404"], now=RECEIVED,
        )
    assert case.decision is None


def test_an_item_id_two_agencies_share_must_name_the_agency() -> None:
    case = with_open_enquiry(("police", "health"))
    case.record_enquiry_outcome(
        enquiry_outcome(
            findings("police", BragRating.AMBER, item("1", "Police note.")),
            findings("health", BragRating.GREEN, item("1", "Health note.")),
        )
    )
    with pytest.raises(HandoffItemNotOnCase, match="several agencies"):
        case.decide(
            "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Go.",
            handoff_item_ids=["1"], now=RECEIVED,
        )
    decision = case.decide(
        "Alex Manager", Role.MANAGER, outcome=Outcome.EARLY_HELP, receiving_service=None, rationale="Go.",
        handoff_item_ids=["health:1"], now=RECEIVED,
    )
    assert decision.released_items[0].wording == "Health note."


def _police_sealed(permitted: bool, summary: str = "Intelligence graded B2 about the visitor.") -> SealedItem:
    release = ReleaseCondition(
        permitted=permitted,
        permitted_wording="Police hold information about a visitor to the home." if permitted else None,
        request_route="Ask the police public protection unit",
    )
    return SealedItem(agency="police", item=InformationItem(
        item_id="p-9", about="Gary Pike", summary=summary, sensitivity=Sensitivity.SENSITIVE, release=release,
        rating_reason="Suspected of offences against children."))


def test_a_sealed_item_not_released_is_no_candidate_and_is_refused_by_name() -> None:
    case = with_open_enquiry(("police",))
    case.record_enquiry_outcome(enquiry_outcome(findings("police", BragRating.RED), sealed=[_police_sealed(False)]))
    assert "police:p-9" in case.supplied_items()
    assert "police:p-9" not in case.handoff_candidates()
    for named in ("police:p-9", "p-9"):
        with pytest.raises(HandoffItemNotReleasable, match="police has not permitted its release"):
            case.decide(
                "Alex Manager", Role.MANAGER, outcome=Outcome.CHILD_PROTECTION, receiving_service=None,
                rationale="Strategy.", handoff_item_ids=[named], now=RECEIVED,
            )
    assert case.decision is None


def test_every_withheld_item_goes_on_the_decision_as_a_reference_without_its_content() -> None:
    case = with_open_enquiry(("police",))
    case.record_enquiry_outcome(enquiry_outcome(findings("police", BragRating.RED), sealed=[_police_sealed(False)]))
    decision = case.decide(
        "Alex Manager", Role.MANAGER, outcome=Outcome.CHILD_PROTECTION, receiving_service=None, rationale="Strategy.",
        handoff_item_ids=[], now=RECEIVED,
    )
    assert [(w.agency, w.item_id, w.request_route) for w in decision.withheld_items] == [
        ("police", "p-9", "Ask the police public protection unit")]
    assert decision.released_items == []
    wire = decision.model_dump_json()
    for secret in ("Gary Pike", "graded B2", "offences against children"):
        assert secret not in wire


def test_the_candidates_are_labelled_as_the_caller_may_see_them() -> None:
    case = with_open_enquiry(("police",))
    case.record_enquiry_outcome(enquiry_outcome(
        findings("police", BragRating.RED, item("p-1", "Called to the address twice.")), sealed=[_police_sealed(True)]))
    inside = [choice.model_dump() for choice in handoff_choices(case_file_view(case, Role.MANAGER))]
    assert inside == [
        {"key": "police:p-1", "agency": "police", "item_id": "p-1", "summary": "Called to the address twice.",
         "sealed": False, "release_wording": None},
        {"key": "police:p-9", "agency": "police", "item_id": "p-9", "summary": "Intelligence graded B2 about the visitor.",
         "sealed": True, "release_wording": "Police hold information about a visitor to the home."}]
    assert [choice["key"] for choice in inside] == sorted(case.handoff_candidates())
    # Outside the hub's sealed circle the sealed item is no candidate, so neither its summary nor its wording shows.
    outside = handoff_choices(case_file_view(case, Role.ANALYST))
    assert [choice.key for choice in outside] == ["police:p-1"]
    assert "graded B2" not in str(outside) and "visitor to the home" not in str(outside)


def test_a_sealed_item_not_released_is_no_labelled_candidate() -> None:
    case = with_open_enquiry(("police",))
    case.record_enquiry_outcome(enquiry_outcome(findings("police", BragRating.RED), sealed=[_police_sealed(False)]))
    assert handoff_choices(case_file_view(case, Role.MANAGER)) == []


def test_a_released_item_goes_only_in_its_permitted_wording() -> None:
    case = with_open_enquiry(("police",))
    case.record_enquiry_outcome(enquiry_outcome(findings("police", BragRating.RED), sealed=[_police_sealed(True)]))
    assert "police:p-9" in case.handoff_candidates()
    decision = case.decide(
        "Alex Manager", Role.MANAGER, outcome=Outcome.CHILD_PROTECTION, receiving_service=None, rationale="Strategy.",
        handoff_item_ids=["police:p-9"], now=RECEIVED,
    )
    assert [(r.basis, r.about, r.wording) for r in decision.released_items] == [
        ("released_by_agency", None, "Police hold information about a visitor to the home.")]
    assert decision.withheld_items == []
    assert "graded B2" not in decision.model_dump_json()


def test_sealed_text_quoted_in_the_rationale_is_cut_out_of_the_decision() -> None:
    case = with_open_enquiry(("police",))
    case.record_enquiry_outcome(enquiry_outcome(findings("police", BragRating.RED), sealed=[_police_sealed(False)]))
    decision = case.decide(
        "Alex Manager", Role.MANAGER, outcome=Outcome.CHILD_PROTECTION, receiving_service=None,
        rationale="Police say: INTELLIGENCE GRADED B2 ABOUT THE VISITOR. Also suspected of offences against children.",
        handoff_item_ids=[], now=RECEIVED,
    )
    assert "graded b2" not in decision.rationale.lower()
    assert "offences against children" not in decision.rationale
    assert decision.rationale.count("[withheld: sensitive information held by police]") == 2
    # The case file's own history, sealed at rest and read only inside the hub, keeps the manager's words.
    assert case.history[-1].why is not None
    assert "GRADED B2" in case.history[-1].why


def test_the_manager_can_set_the_rating_and_service_explicitly() -> None:
    decision = with_outcome().decide(
        "Alex Manager",
        Role.MANAGER,
        outcome=Outcome.TARGETED_FAMILY_SUPPORT,
        receiving_service="families-first",
        rationale="Family programme fits.",
        handoff_item_ids=[],
        now=RECEIVED,
        rating=BragRating.GREEN,
    )
    assert decision.rating is BragRating.GREEN
    assert decision.receiving_service == "families-first"


# -- late answers ---------------------------------------------------------------------------------------


def test_scenario_7_a_late_answer_after_the_decision_is_kept_as_an_addendum() -> None:
    case = with_outcome()
    case.decide(
        "Alex Manager", Role.MANAGER, outcome=Outcome.STATUTORY_ASSESSMENT, receiving_service=None, rationale="Assess.",
        handoff_item_ids=[], now=RECEIVED,
    )
    late = addendum(findings("education", BragRating.AMBER, item("e-1", "Attendance 60%.", about="child")))
    assert case.add_addendum(late, london(2026, 3, 12, 9, 0))
    assert not case.add_addendum(late, london(2026, 3, 12, 9, 5))
    assert case.addenda == [late]
    assert case.history[-1].what == "late answer from education added after the decision"
    assert "education:e-1" in case.handoff_candidates()


def test_an_addendum_for_another_enquiry_is_refused() -> None:
    with pytest.raises(EnquiryNotOnCase):
        with_outcome().add_addendum(addendum(findings("police", None), enquiry_id="enq-x"), RECEIVED)


# -- stored form ---------------------------------------------------------------------------------------


def _mongo_problems(value: Any, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if "." in key or key.startswith("$"):
                problems.append(f"{path}/{key}: key not allowed in MongoDB")
            problems += _mongo_problems(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if isinstance(inner, list):
                problems.append(f"{path}[{index}]: nested array")
            problems += _mongo_problems(inner, f"{path}[{index}]")
    return problems


def test_a_decided_case_file_round_trips_through_its_document() -> None:
    case = new_case()
    case.amend(amendment(additional_information="He has a sister."))
    case.screen(
        "Jo Screener", Role.SCREENER, confirmed_rating=BragRating.GREEN, rationale=None,
        now=london(2026, 3, 10, 10, 20), timescales=TIMESCALES,
    )
    case.open_enquiry(
        "Alex Manager",
        Role.MANAGER,
        agencies=["probation", "health"],
        consent_check=None,
        proceed_without_consent_reason="Police matter; consent not sought.",
        questions=[],
        now=london(2026, 3, 10, 10, 30),
        timescales=TIMESCALES,
    )
    case.record_enquiry_outcome(scenario_1_outcome())
    case.decide(
        "Alex Manager",
        Role.MANAGER,
        outcome=Outcome.STATUTORY_ASSESSMENT,
        receiving_service=None,
        rationale="Assess.",
        handoff_item_ids=["prob-1"],
        now=london(2026, 3, 10, 16, 0),
    )
    document = case.to_document()
    assert _mongo_problems(document) == []
    restored = CaseFile.from_document(json.loads(json.dumps(document)))
    assert restored == case
    assert restored.state is CaseState.DECIDED


def test_a_document_from_the_store_with_its_id_and_utc_times_is_read_back() -> None:
    case = screened()
    document = case.to_document()
    document["_id"] = "ref-1"
    document["outbox"] = []
    # BSON hands datetimes back as naive UTC.
    document["opened_at"] = datetime(2026, 3, 10, 10, 1)
    restored = CaseFile.from_document(document)
    assert restored.opened_at == case.opened_at
    assert restored.referral == case.referral
