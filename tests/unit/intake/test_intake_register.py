"""Importing the local authority's register of known people from CSV and JSON exports."""

from __future__ import annotations

import json
from datetime import date

import pytest
from mash_intake.domain.register import (
    RegisterImportError,
    parse_register_csv,
    parse_register_json,
)

pytestmark = pytest.mark.unit

HEADER = (
    "person_ref,given_name,family_name,date_of_birth,nhs_number,postcode,"
    "allocated_worker_name,allocated_worker_team,allocated_worker_email\n"
)


def test_a_clean_csv_export_imports_every_person() -> None:
    text = HEADER + (
        "P1,Liam,Carter,2015-04-03,943 476 5919,ex1 2ab,Sue Brown,Assessment Team 2,sue.brown@la.example.gov.uk\n"
        "P2,Ava,Carter,03/09/2017,,EX1 2AB,,,\n"
    )

    imported = parse_register_csv(text)

    assert imported.problems == []
    first, second = imported.people
    assert first.nhs_number == "9434765919"
    assert first.postcode == "EX1 2AB"
    assert first.allocated_worker is not None
    assert first.allocated_worker.team == "Assessment Team 2"
    assert second.date_of_birth == date(2017, 9, 3)
    assert second.nhs_number is None
    assert second.allocated_worker is None


def test_bad_csv_rows_are_reported_by_row_and_field_and_the_rest_imported() -> None:
    text = HEADER + (
        "P1,Liam,Carter,2015-04-03,,EX1 2AB,,,\n"  # row 2: fine
        "P2,Ava,Carter,31/02/2017,,EX1 2AB,,,\n"  # row 3: no 31 February
        "P3,Zoe,,2016-01-01,,EX1 2AB,,,\n"  # row 4: no family name
        "P4,Max,Hill,2016-01-01,12345,EX1 2AB,,,\n"  # row 5: NHS number too short
        "P5,Eli,Hill,2016-01-01,,NOT A POSTCODE,,,\n"  # row 6
        "P6,Ian,Hill,2016-01-01,,EX1 2AB,Sue Brown,,\n"  # row 7: worker without a team
        "P1,Liam,Carter,2015-04-03,,EX1 2AB,,,\n"  # row 8: person_ref repeated
        "P7,Amy,Hill,2016-01-01,,EX1 2AB,,,,surplus\n"  # row 9: a cell too many
    )

    imported = parse_register_csv(text)

    assert [person.person_ref for person in imported.people] == ["P1"]
    assert {(problem.row, problem.field) for problem in imported.problems} == {
        (3, "date_of_birth"),
        (4, "family_name"),
        (5, "nhs_number"),
        (6, "postcode"),
        (7, "allocated_worker_team"),
        (8, "person_ref"),
        (9, "(row)"),
    }
    assert "already given on row 2" in next(p.message for p in imported.problems if p.row == 8)
    with pytest.raises(RegisterImportError, match="row 3, date_of_birth"):
        imported.raise_for_problems()


def test_a_csv_export_without_the_required_columns_is_refused() -> None:
    with pytest.raises(RegisterImportError, match="family_name"):
        parse_register_csv("person_ref,given_name\nP1,Liam\n")


def test_a_csv_export_with_an_unknown_column_is_refused() -> None:
    with pytest.raises(RegisterImportError, match=r"unknown column.*surname"):
        parse_register_csv("person_ref,family_name,surname\nP1,Carter,Carter\n")


def test_a_json_export_imports_and_reports_bad_records_by_number() -> None:
    records = [
        {
            "person_ref": "P1",
            "given_name": "Liam",
            "family_name": "Carter",
            "date_of_birth": "2015-04-03",
            "allocated_worker": {"name": "Sue Brown", "team": "Assessment Team 2"},
        },
        {"person_ref": "P2", "family_name": "Carter", "date_of_birth": "not a date"},
        {"person_ref": "P3", "family_name": "Carter", "shoe_size": 5},
        "not an object",
    ]

    imported = parse_register_json(json.dumps(records))

    assert [person.person_ref for person in imported.people] == ["P1"]
    assert imported.people[0].allocated_worker is not None
    assert {(problem.row, problem.field) for problem in imported.problems} == {
        (2, "date_of_birth"),
        (3, "shoe_size"),
        (4, "(row)"),
    }


@pytest.mark.parametrize(("text", "expected"), [("{not json", "not valid JSON"), ('{"a": 1}', "JSON array")])
def test_a_json_export_that_is_not_an_array_is_refused(text: str, expected: str) -> None:
    with pytest.raises(RegisterImportError, match=expected):
        parse_register_json(text)
