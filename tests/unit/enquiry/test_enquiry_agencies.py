"""The partner-agency directory: the packaged default, adding an agency by YAML, and clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from mash_enquiry.config import load_agencies, parse_agencies
from mash_enquiry.domain.agencies import EmailContact, IdentifyingDetail, WebhookContact
from mash_enquiry.domain.exceptions import AgencyDirectoryInvalid, UnknownAgency
from mash_enquiry.domain.reminders import BeforeDuePoint, ElapsedPoint

pytestmark = pytest.mark.unit

HUB_AGENCIES = [
    "police",
    "health",
    "education",
    "probation",
    "youth-offending",
    "housing",
    "early-help",
    "adult-social-care",
    "domestic-abuse-services",
    "local-authority",
]

ONE_AGENCY = """
agencies:
  health:
    display_name: Health
    partitions: {partitions}
    receives: [nhs_number, postcode]
    reminder_contact: {{channel: email, email: health@hub.example.org}}
"""


def test_the_packaged_default_names_every_partner_agency_with_three_partitions() -> None:
    directory = load_agencies()

    assert directory.names == HUB_AGENCIES
    assert {agency.partitions for agency in directory.agencies.values()} == {3}
    assert all(agency.display_name for agency in directory.agencies.values())
    assert all(isinstance(agency.reminder_contact, EmailContact) for agency in directory.agencies.values())


def test_only_health_receives_nhs_numbers_and_everyone_receives_postcodes_by_default() -> None:
    directory = load_agencies()

    with_nhs = [name for name, agency in directory.agencies.items() if agency.gets(IdentifyingDetail.NHS_NUMBER)]
    assert with_nhs == ["health"]
    assert all(agency.gets(IdentifyingDetail.POSTCODE) for agency in directory.agencies.values())
    assert not any(agency.gets(IdentifyingDetail.ADDRESS_LINES) for agency in directory.agencies.values())


def test_the_default_reminders_are_at_half_and_85_percent_of_the_window() -> None:
    assert load_agencies().reminders.points == (ElapsedPoint(elapsed=0.5), ElapsedPoint(elapsed=0.85))


def test_an_agency_is_added_by_a_yaml_entry(tmp_path: Path) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_text(
        """
agencies:
  police:
    display_name: Police
    reminder_contact: {channel: email, email: police@hub.example.org}
  school-nursing:
    display_name: School Nursing
    partitions: 6
    receives: [nhs_number, postcode, town]
    reminder_contact: {channel: webhook, url: "https://nursing.example.org/mash/reminders"}
reminders:
  points:
    - elapsed: 0.25
    - before_due: PT1H
""",
        encoding="utf-8",
    )

    directory = load_agencies(path)

    nursing = directory.agency("school-nursing")
    assert nursing.name == "school-nursing"
    assert nursing.partitions == 6
    assert nursing.receives == {IdentifyingDetail.NHS_NUMBER, IdentifyingDetail.POSTCODE, IdentifyingDetail.TOWN}
    assert isinstance(nursing.reminder_contact, WebhookContact)
    assert directory.agency("police").receives == {IdentifyingDetail.POSTCODE}  # the default
    assert directory.agency("police").partitions == 3
    assert directory.reminders.points == (ElapsedPoint(elapsed=0.25), BeforeDuePoint(before_due=timedelta(hours=1)))


def test_a_bad_config_says_which_file_and_field_are_at_fault(tmp_path: Path) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_text(ONE_AGENCY.format(partitions=0), encoding="utf-8")

    with pytest.raises(AgencyDirectoryInvalid) as caught:
        load_agencies(path)

    message = str(caught.value)
    assert str(path) in message
    assert "agencies.health.partitions" in message
    assert "greater than or equal to 1" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "agencies:\n  Police:\n    display_name: P\n"
            "    reminder_contact: {channel: email, email: p@hub.example.org}\n",
            "agencies.Police",
        ),
        (ONE_AGENCY.format(partitions=3).replace("nhs_number", "national_insurance"), "receives"),
        (
            ONE_AGENCY.format(partitions=3).replace("email: health@hub.example.org", "email: not-an-address"),
            "reminder_contact.email.email",
        ),
        (ONE_AGENCY.format(partitions=3).replace("channel: email", "channel: pigeon"), "reminder_contact"),
        (ONE_AGENCY.format(partitions=3) + "    colour: blue\n", "agencies.health.colour"),
        (ONE_AGENCY.format(partitions=3) + "  health:\n    display_name: Again\n", "given twice"),
        ("agencies: {}\n", "agencies"),
        ("- just\n- a list\n", "mapping"),
        ("agencies: [unclosed\n", "not valid YAML"),
        (ONE_AGENCY.format(partitions=3) + "reminders:\n  points:\n    - elapsed: 1.5\n", "reminders.points"),
        (ONE_AGENCY.format(partitions=3) + "reminders:\n  points:\n    - before_due: -PT1H\n", "before_due"),
    ],
)
def test_each_kind_of_bad_config_is_refused_with_the_place_named(text: str, expected: str) -> None:
    with pytest.raises(AgencyDirectoryInvalid, match=expected.replace(".", r"\.")):
        parse_agencies(text, source="test.yaml")


def test_a_missing_file_is_a_clear_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(AgencyDirectoryInvalid, match="cannot read"):
        load_agencies(missing)


def test_asking_for_an_agency_the_hub_does_not_have_is_unknown_agency() -> None:
    directory = load_agencies()

    with pytest.raises(UnknownAgency) as caught:
        directory.require(["police", "fire-service", "coastguard"])

    assert caught.value.agencies == ["fire-service", "coastguard"]
    with pytest.raises(UnknownAgency, match="fire-service"):
        directory.agency("fire-service")
