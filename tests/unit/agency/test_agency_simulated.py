"""The simulated agencies find the scenario families, and nothing else."""

from __future__ import annotations

import glob
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from mash_agency.adapter import AgencyAnswer
from mash_agency.simulated import (
    RecordMatch,
    SimulatedAgency,
    SimulatedRecord,
    SimulatedRecords,
    load_records,
    record_matches,
    simulated_agencies,
)
from mash_schemas import BragRating, InformationItem, Sensitivity

from tests.unit.agency.agency_builders import DEMO, DUE_AT, demo_json, request_from, scenario_request, scenarios

pytestmark = pytest.mark.unit

SCENARIO_AGENCIES = [
    "police",
    "health",
    "education",
    "probation",
    "housing",
    "local-authority",
    "youth-offending",
    "early-help",
    "domestic-abuse-services",
]

LOADED = {agency: SimulatedAgency(agency) for agency in SCENARIO_AGENCIES}


def expected_answers() -> list[tuple[int, str, dict[str, Any]]]:
    return [
        (entry["number"], agency, expected)
        for entry in scenarios()
        for agency, expected in entry["expected"].get("agency_answers", {}).items()
    ]


@pytest.mark.parametrize(("number", "agency", "expected"), expected_answers())
def test_each_scenario_agency_answers_as_scenarios_yaml_says(
    number: int, agency: str, expected: dict[str, Any]
) -> None:
    answer = SimulatedAgency(agency).answer(scenario_request(number, agency))

    assert answer.outcome == expected["outcome"]
    if expected["outcome"] == "information_held":
        assert answer.rating == BragRating(expected["rating"])
    sensitive = [item for item in answer.items if item.sensitivity is Sensitivity.SENSITIVE]
    assert len(sensitive) == expected.get("sensitive_items", 0)
    for item in sensitive:
        assert item.release is not None
        assert item.release.permitted is expected["permitted"]


def test_silent_agency_of_scenario_7_still_has_a_late_answer_to_give() -> None:
    late = scenarios()[6]["expected"]["late_answer_as_addendum"]

    answer = SimulatedAgency(late["agency"]).answer(scenario_request(7, late["agency"]))

    assert answer.outcome == late["outcome"]
    assert answer.rating == BragRating(late["rating"])
    assert all(phrase in " ".join(item.summary for item in answer.items) for phrase in late["must_contain"])


def test_scenario_1_probation_names_the_release_date_a_week_after_the_due_date() -> None:
    answer = SimulatedAgency("probation").answer(scenario_request(1, "probation"))

    release = DUE_AT.date() + timedelta(days=7)
    spoken = f"{release:%A} {release.day} {release:%B %Y}"
    assert any(spoken in item.summary for item in answer.items)
    assert all("{date" not in item.summary for item in answer.items)


def test_scenario_1_health_item_is_sensitive_with_permission_and_wording() -> None:
    (item,) = SimulatedAgency("health").answer(scenario_request(1, "health")).items

    assert item.sensitivity is Sensitivity.SENSITIVE
    assert item.release is not None and item.release.permitted
    assert item.release.permitted_wording and "mental-health history" in item.release.permitted_wording


def test_scenario_4_police_intelligence_is_sealed_with_a_route_to_request_it() -> None:
    answer = SimulatedAgency("police").answer(scenario_request(4, "police"))

    (item,) = answer.items
    assert answer.rating is BragRating.RED
    assert item.release is not None and not item.release.permitted
    assert "Public Protection Unit" in item.release.request_route
    assert "MASH reference" in item.release.request_route


@pytest.mark.parametrize(("number", "file"), [(2, "scenario-2-antisocial-behaviour"), (3, "scenario-3-drugs-warrant")])
def test_police_notification_versions_are_found_like_the_contacts(number: int, file: str) -> None:
    notification = demo_json(f"police/{file}.json")
    for agency, expected in next(s for s in scenarios() if s["number"] == number)["expected"]["agency_answers"].items():
        answer = SimulatedAgency(agency).answer(request_from(notification, agency))
        assert answer.outcome == expected["outcome"], agency


ROUTINE = sorted(glob.glob(str(DEMO / "police" / "routine-*.json")))


@pytest.mark.parametrize("path", ROUTINE, ids=lambda path: path.rsplit("/", 1)[-1])
def test_routine_notifications_are_unknown_to_every_agency(path: str) -> None:
    notification = demo_json(path)
    for agency in SCENARIO_AGENCIES:
        assert SimulatedAgency(agency).answer(request_from(notification, agency)).outcome == "nothing_known"


def test_decoy_turner_elsewhere_does_not_reach_scenario_1() -> None:
    police = SimulatedAgency("police")
    decoy = next(record for record in police.records.records if record.record_id == "pol-decoy-turner")

    assert police.answer(scenario_request(1, "police")).outcome == "nothing_known"
    moved = demo_json("contacts/scenario-1-bike-theft.json")
    moved["subjects"][0]["address"]["postcode"] = decoy.match.postcode
    assert police.answer(request_from(moved, "police")).items[0].item_id == "pol-dt-001"


def test_a_date_of_birth_that_disagrees_rules_the_record_out() -> None:
    health = SimulatedAgency("health")

    ids = [item.item_id for item in health.answer(scenario_request(7, "health")).items]

    assert ids == ["hlth-s7-001"]  # not the earlier occupant's record (different date of birth)


def test_a_person_given_without_a_date_is_matched_on_name_and_postcode() -> None:
    contact = demo_json("contacts/scenario-5-quiet-worry.json")
    del contact["household"][0]["date_of_birth"]

    assert SimulatedAgency("health").answer(request_from(contact, "health")).outcome == "information_held"


def test_an_unborn_child_with_another_expected_date_is_not_the_pregnancy_on_record() -> None:
    contact = demo_json("contacts/scenario-3-drugs-warrant-pregnancy.json")
    contact["subjects"][0]["expected_date"] = "2027-06-01"
    contact["household"] = []

    assert SimulatedAgency("health").answer(request_from(contact, "health")).outcome == "nothing_known"


@given(
    spaces=st.sampled_from(["EX31 1LP", "EX311LP", " EX31 1LP "]),
    family=st.sampled_from(["Holt", "HOLT", "holt", " Holt"]),
)
def test_matching_ignores_case_and_spacing(spaces: str, family: str) -> None:
    contact = demo_json("contacts/scenario-5-quiet-worry.json")
    for member in contact["household"]:
        member["family_name"] = family
    contact["subjects"][0]["address"]["postcode"] = spaces

    assert SimulatedAgency("health").answer(request_from(contact, "health")).rating is BragRating.GREEN


@given(family=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12))
def test_a_family_no_agency_holds_is_nothing_known(family: str) -> None:
    known = {record.match.family_name.casefold() for agency in LOADED.values() for record in agency.records.records}
    contact = demo_json("contacts/scenario-1-bike-theft.json")
    for person in [*contact["subjects"], *contact["household"]]:
        person["family_name"] = family
    assume(family not in known)
    answers = [LOADED[agency].answer(request_from(contact, agency)) for agency in SCENARIO_AGENCIES]

    assert all(answer.outcome == "nothing_known" for answer in answers)


def test_every_scenario_agency_has_records_that_validate() -> None:
    assert set(SCENARIO_AGENCIES) <= set(simulated_agencies())
    item_ids = [
        item.item_id
        for agency in simulated_agencies()
        for record in load_records(agency).records
        for item in record.items
    ]
    assert len(item_ids) == len(set(item_ids))


def test_every_scenario_with_an_enquiry_has_records_behind_it() -> None:
    scenario_numbers = {
        record.scenario
        for agency in simulated_agencies()
        for record in load_records(agency).records
        if record.scenario is not None
    }
    assert scenario_numbers == {1, 2, 3, 4, 5, 7, 8}


def test_an_agency_without_records_knows_nothing() -> None:
    agency = SimulatedAgency("adult-social-care")

    assert agency.records.records == []
    assert agency.answer(scenario_request(1, "adult-social-care")) == AgencyAnswer.nothing_known(
        agency.records.responded_by
    )


def test_records_of_another_agency_are_refused(tmp_path: Any) -> None:
    path = tmp_path / "health.yaml"
    path.write_text("agency: police\nresponded_by: x\nrecords: []\n", encoding="utf-8")

    with pytest.raises(ValueError, match="police"):
        load_records("health", path)


async def test_search_is_the_async_face_of_answer() -> None:
    agency = SimulatedAgency("education")
    request = scenario_request(2, "education")

    assert await agency.search(request) == agency.answer(request)


def test_several_matching_records_combine_at_the_most_serious_rating() -> None:
    item = InformationItem(item_id="x1", about="a", summary="s", sensitivity=Sensitivity.NON_SENSITIVE)
    records = SimulatedRecords(
        agency="police",
        responded_by="test desk",
        records=[
            SimulatedRecord(
                record_id=f"r{rating.value}",
                match=RecordMatch(family_name="HOLT", postcode="ex311lp"),  # records may be untidy
                rating=rating,
                items=[item.model_copy(update={"item_id": f"i-{rating.value}"})],
            )
            for rating in (BragRating.GREEN, BragRating.RED, BragRating.BLUE)
        ],
    )
    request = scenario_request(5, "police")

    answer = SimulatedAgency("police", records).answer(request)

    assert answer.rating is BragRating.RED
    assert [i.item_id for i in answer.items] == ["i-green", "i-red", "i-blue"]
    assert answer.responded_by == "test desk"
    assert all(record_matches(record, request) for record in records.records)
