"""Who a record is about, for a subject access request: the requester, a namesake, or a third party."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from mash_runtime.subject_access import names_match, names_the_person, person_matches
from mash_schemas.subject_access import PersonIdentifiers, SubjectAccessRequest

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
LILY = PersonIdentifiers(given_name="Lily", family_name="Evans", date_of_birth=date(2018, 6, 1))


def request_for(person: PersonIdentifiers) -> SubjectAccessRequest:
    return SubjectAccessRequest(request_id="SAR-1", person=person, received_at=RECEIVED, due_at=RECEIVED,
                                requested_by="mgr-okafor")


def test_names_match_on_family_name_and_on_given_name_only_when_both_are_known() -> None:
    assert names_match("Lily", "Evans", "lily", " EVANS ")
    assert names_match(None, "Evans", "Rose", "Evans")
    assert names_match("Lily", "Evans", None, "Evans")
    assert not names_match("Lily", "Evans", "Rose", "Evans")
    assert not names_match("Lily", "Evans", "Lily", "Evan")
    assert not names_match("Lily", "Evans", "Lily", None)


def test_a_namesake_born_on_another_day_is_not_the_person() -> None:
    request = request_for(LILY)
    assert person_matches(request, {"given_name": "Lily", "family_name": "Evans", "date_of_birth": "2018-06-01"})
    assert person_matches(request, {"given_name": "Lily", "family_name": "Evans"}), "no date recorded: the name decides"
    assert not person_matches(request, {"given_name": "Lily", "family_name": "Evans", "date_of_birth": "2019-02-03"})


@pytest.mark.parametrize(("about", "is_the_person"), [
    ("Lily Evans", True),
    ("lily evans, the child", True),
    ("EVANS, Lily (born 2018)", True),
    ("Gary Pike, mother's partner", False),
    ("Rose Evans, the sister", False),  # the family name alone is not the requester when her given name is known
    ("the household", False),
])
def test_an_agency_item_names_the_person_or_a_third_party(about: str, is_the_person: bool) -> None:
    assert names_the_person(about, LILY) is is_the_person


def test_with_no_given_name_known_the_family_name_decides() -> None:
    assert names_the_person("Rose Evans, the sister", PersonIdentifiers(family_name="Evans"))
