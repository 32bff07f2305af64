"""The recommendation from a completed enquiry, checked against the scenarios hubs reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mash_decision.config import default_recommendation_rules
from mash_decision.domain.recommendation import EscalationRule, RecommendationRules, recommend
from mash_runtime.config_files import parse_config
from mash_schemas import AgencyFindings, BragRating, EnquiryOutcome, Outcome, SealedItem

from tests.unit.decision.casebook import addendum, enquiry_outcome, findings, item, scenario_1_outcome

pytestmark = pytest.mark.unit


def test_scenario_1_the_bike_theft_becomes_a_statutory_assessment() -> None:
    result = recommend(BragRating.GREEN, scenario_1_outcome())
    assert result.rating is BragRating.AMBER
    assert result.outcome is Outcome.STATUTORY_ASSESSMENT
    assert result.receiving_service == "assessment-team"
    assert "Highest agency rating: amber (health, probation)." in result.reasons
    assert "2 agencies rated amber or above (health, probation): at least amber." in result.reasons
    assert not result.made_without_every_agency


def test_scenario_2_antisocial_behaviour_that_was_neglect_is_child_protection() -> None:
    outcome = enquiry_outcome(
        findings("housing", BragRating.RED, item("h-1", "Address used by drug dealers.", about="household")),
        findings("education", BragRating.AMBER, item("e-1", "Both children attend under 70%.", about="children")),
        findings("police", BragRating.AMBER, item("p-1", "Repeated calls to the address.", about="household")),
    )
    result = recommend(BragRating.AMBER, outcome)
    assert result.rating is BragRating.RED
    assert result.outcome is Outcome.CHILD_PROTECTION
    assert result.receiving_service == "assessment-team"


def test_scenario_5_a_quiet_worry_at_school_goes_to_early_help() -> None:
    outcome = enquiry_outcome(
        findings("health", BragRating.GREEN, item("gp-7", "Mother not coping, per recent GP visits.", about="mother")),
        findings("police", None),
        findings("housing", None),
    )
    result = recommend(BragRating.GREEN, outcome)
    assert result.rating is BragRating.GREEN
    assert result.outcome is Outcome.EARLY_HELP
    assert result.receiving_service == "early-help"
    assert "police: nothing known." in result.reasons


def test_scenario_7_a_silent_agency_is_named_in_the_recommendation() -> None:
    outcome = enquiry_outcome(
        findings("police", BragRating.GREEN, item("p-1", "One call in 2024.")),
        findings("health", BragRating.AMBER, item("h-1", "Missed immunisations.", about="child")),
        findings("housing", None),
        findings("probation", None),
        not_answered=["education"],
    )
    result = recommend(BragRating.AMBER, outcome)
    assert result.rating is BragRating.AMBER
    assert result.outcome is Outcome.STATUTORY_ASSESSMENT
    assert result.silent_agencies == ["education"]
    assert result.made_without_every_agency
    assert any(line.startswith("No answer from education") for line in result.reasons)


def test_a_late_answer_is_counted_and_the_agency_is_no_longer_silent() -> None:
    outcome = enquiry_outcome(
        findings("police", BragRating.GREEN, item("p-1", "One call.")), not_answered=["education"]
    )
    late = addendum(findings("education", BragRating.RED, item("e-1", "Disclosure to a teacher.", about="child")))
    result = recommend(BragRating.GREEN, outcome, [late])
    assert result.rating is BragRating.RED
    assert result.silent_agencies == []
    assert any("education rated red" in line and "late answer" in line for line in result.reasons)


def test_the_screening_rating_is_a_floor() -> None:
    outcome = enquiry_outcome(
        findings("police", BragRating.BLUE, item("p-1", "Nothing of note.")), findings("health", None)
    )
    result = recommend(BragRating.AMBER, outcome)
    assert result.rating is BragRating.AMBER
    assert result.outcome is Outcome.STATUTORY_ASSESSMENT


def test_a_sealed_only_answer_counts_by_the_agencys_rating_without_showing_the_item() -> None:
    secret = "Intelligence: suspected offender visits the address."
    outcome = enquiry_outcome(
        findings("police", BragRating.RED),
        findings("education", BragRating.GREEN, item("e-1", "Child on roll at the school.", about="child")),
        sealed=[SealedItem(agency="police", item=item("p-9", secret, sensitive=True))],
    )
    result = recommend(BragRating.AMBER, outcome)
    assert result.rating is BragRating.RED
    assert "police rated red, including 1 sealed item(s) that stay in the hub." in result.reasons
    assert not any(secret in line for line in result.reasons)


def test_an_agency_with_only_sealed_items_and_no_findings_still_answered() -> None:
    outcome = enquiry_outcome(
        findings("education", BragRating.GREEN, item("e-1", "On roll.", about="child")),
        sealed=[SealedItem(agency="police", item=item("p-9", "Intelligence.", sensitive=True))],
    )
    result = recommend(BragRating.GREEN, outcome)
    assert "police: information held (1 sealed item(s)), no rating given." in result.reasons
    assert "police" not in result.silent_agencies


def test_a_hub_can_add_a_cumulative_rule_and_remap_services() -> None:
    rules = RecommendationRules(
        escalations=(EscalationRule(agencies=3, rated_at_least=BragRating.AMBER, raises_to=BragRating.RED),),
        receiving_services={Outcome.CHILD_PROTECTION: "mash-strategy-team"},
    )
    outcome = enquiry_outcome(
        *(
            findings(agency, BragRating.AMBER, item(f"{agency}-1", "Concern."))
            for agency in ("police", "health", "housing")
        )
    )
    result = recommend(BragRating.GREEN, outcome, rules=rules)
    assert result.rating is BragRating.RED
    assert result.receiving_service == "mash-strategy-team"
    assert rules.receiving_service(Outcome.EARLY_HELP) == "early-help"


def test_the_shipped_yaml_holds_the_default_rules() -> None:
    assert default_recommendation_rules() == RecommendationRules()
    custom = parse_config("outcome_by_rating: {green: targeted_family_support}", RecommendationRules,
                          what="recommendation rules")
    assert custom.outcome_by_rating[BragRating.GREEN] is Outcome.TARGETED_FAMILY_SUPPORT
    assert custom.outcome_by_rating[BragRating.RED] is Outcome.CHILD_PROTECTION


def test_an_agencys_own_safety_scale_is_shown_beside_its_rating() -> None:
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    found = AgencyFindings(agency="health", outcome="nothing_known", rating=None, safety_scale=6, responded_at=at)
    outcome = EnquiryOutcome(enquiry_id="ENQ-1", referral_id="MASH-1", completed_at=at, completion="all_answered",
                             findings=[found])
    made = recommend(BragRating.GREEN, outcome, [])
    assert made.agencies[0].safety_scale == 6
    assert "health: nothing known; its safety scale 6/10." in made.reasons
