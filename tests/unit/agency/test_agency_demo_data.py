"""The demo's scenario data fits the contract, and hangs together with the simulated records."""

from __future__ import annotations

import csv
import glob
from pathlib import Path
from typing import Any

import pytest
from mash_agency.simulated import simulated_agencies
from mash_schemas import (
    Concern,
    Consent,
    HouseholdMember,
    PoliceNotification,
    Referrer,
    Subject,
    SubjectKind,
)

from tests.unit.agency.agency_builders import DEMO, demo_json, scenario, scenarios

pytestmark = pytest.mark.unit

CONTACT_FIELDS = {"referrer", "subjects", "household", "concern", "consent"}
REGISTER_COLUMNS = [
    "person_ref",
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "postcode",
    "allocated_worker_name",
    "allocated_worker_team",
    "allocated_worker_email",
]


def nhs_number_is_valid(number: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(number[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(number[9])


def register() -> list[dict[str, str]]:
    with (DEMO / "register.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


CONTACTS = sorted(Path(path).name for path in glob.glob(str(DEMO / "contacts" / "*.json")))
POLICE = sorted(Path(path).name for path in glob.glob(str(DEMO / "police" / "*.json")))


@pytest.mark.parametrize("name", CONTACTS)
def test_each_contact_builds_the_contract_models(name: str) -> None:
    contact = demo_json(f"contacts/{name}")

    assert set(contact) == CONTACT_FIELDS
    Referrer.model_validate(contact["referrer"])
    subjects = [Subject.model_validate(subject) for subject in contact["subjects"]]
    [HouseholdMember.model_validate(member) for member in contact["household"]]
    Concern.model_validate(contact["concern"])
    Consent.model_validate(contact["consent"])
    assert subjects
    for subject in subjects:
        assert subject.nhs_number is None or nhs_number_is_valid(subject.nhs_number)


@pytest.mark.parametrize("name", POLICE)
def test_each_police_file_is_a_police_notification(name: str) -> None:
    PoliceNotification.model_validate(demo_json(f"police/{name}"))


def test_there_is_one_contact_per_scenario_and_it_exists() -> None:
    numbers = [entry["number"] for entry in scenarios()]

    assert numbers == list(range(1, 9))
    for entry in scenarios():
        assert (DEMO / entry["contact"]).is_file(), entry["contact"]
        if "police_notification" in entry:
            assert (DEMO / entry["police_notification"]).is_file()
            assert entry["arrives_as"] == "police_notification"
    assert {entry["contact"].split("/")[1] for entry in scenarios()} == set(CONTACTS)


def test_scenarios_2_and_3_arrive_by_the_police_feed() -> None:
    arriving = {entry["number"] for entry in scenarios() if entry["arrives_as"] == "police_notification"}

    assert arriving == {2, 3}


def test_consulted_agencies_have_simulated_records() -> None:
    known = set(simulated_agencies())
    for entry in scenarios():
        assert set(entry["agencies"]) <= known, entry["number"]
        assert set(entry["silent_agencies"]) <= set(entry["agencies"])
        assert set(entry["expected"].get("agency_answers", {})) | set(entry["silent_agencies"]) == set(
            entry["agencies"]
        )


def test_scenario_3_is_about_an_unborn_child() -> None:
    for source in (scenario(3)["contact"], scenario(3)["police_notification"]):
        (subject,) = [Subject.model_validate(s) for s in demo_json(source)["subjects"]]
        assert subject.kind is SubjectKind.UNBORN_CHILD
        assert subject.date_of_birth is None
        assert str(subject.expected_date) == scenario(3)["expected"]["expected_date"]


def test_scenario_6_child_is_on_the_register_with_an_allocated_worker() -> None:
    (subject,) = demo_json(scenario(6)["contact"])["subjects"]
    expected: dict[str, Any] = scenario(6)["expected"]

    (row,) = [row for row in register() if row["person_ref"] == expected["matched_person_ref"]]
    assert (row["given_name"], row["family_name"]) == (subject["given_name"], subject["family_name"])
    assert row["date_of_birth"] == subject["date_of_birth"]
    assert row["nhs_number"] == subject["nhs_number"]
    assert row["postcode"] == subject["address"]["postcode"]
    worker = expected["allocated_worker"]
    assert (row["allocated_worker_name"], row["allocated_worker_team"], row["allocated_worker_email"]) == (
        worker["name"],
        worker["team"],
        worker["email"],
    )


def test_the_register_has_the_agreed_columns_and_sound_rows() -> None:
    with (DEMO / "register.csv").open(encoding="utf-8") as handle:
        assert handle.readline().strip().split(",") == REGISTER_COLUMNS
    rows = register()
    assert len({row["person_ref"] for row in rows}) == len(rows)
    for row in rows:
        assert nhs_number_is_valid(row["nhs_number"]), row["person_ref"]
        worker = [row["allocated_worker_name"], row["allocated_worker_team"], row["allocated_worker_email"]]
        assert all(worker) or not any(worker), row["person_ref"]


def test_only_scenario_6_families_have_an_allocated_worker() -> None:
    allocated = {(row["family_name"], row["postcode"]) for row in register() if row["allocated_worker_name"]}
    for entry in scenarios():
        people = demo_json(entry["contact"])["subjects"]
        for subject in people:
            key = (subject["family_name"], subject["address"]["postcode"])
            assert (key in allocated) == (entry["number"] == 6), entry["number"]


def test_routine_notifications_are_adult_only_and_kept_as_information() -> None:
    routine = [demo_json(f"police/{name}") for name in POLICE if name.startswith("routine-")]

    assert len(routine) >= 20
    for notification in routine:
        model = PoliceNotification.model_validate(notification)
        assert not model.children_present
        assert model.dash_risk in (None, "standard")
        assert all(subject.kind is SubjectKind.ADULT_AT_RISK for subject in model.subjects)
    assert len({n["notification_id"] for n in routine}) == len(routine)
