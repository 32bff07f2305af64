"""Matching subjects to known people: exact NHS number, fuzzy names, transposed dates, no false siblings."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mash_intake.domain.matching import KnownPeopleIndex, match_confidence, match_subjects
from mash_schemas.common import AllocatedWorker

from tests.unit.intake.intake_builders import TODAY, child, known, unborn

pytestmark = pytest.mark.unit

WORKER = AllocatedWorker(name="Sue Brown", team="Assessment Team 2")


def test_an_equal_nhs_number_is_a_certain_match_carrying_the_allocated_worker() -> None:
    subject = child(given="Lee", family="Cartwright", born=None, nhs="9434765919", postcode=None)
    register = [known("P1", nhs="9434765919", worker=WORKER), known("P2", given="Lee", family="Cartwright")]

    (match,) = match_subjects([subject], register, on=TODAY)

    assert match.person_ref == "P1"
    assert match.confidence == 1.0
    assert match.reasons == ["NHS number equal"]
    assert match.allocated_worker == WORKER


def test_a_misspelt_name_with_the_same_date_of_birth_and_postcode_matches() -> None:
    subject = child(given="Jaden", family="Smyth", born=date(2015, 4, 3))
    register = [known("P1", given="Jayden", family="Smith", born=date(2015, 4, 3))]

    (match,) = match_subjects([subject], register, on=TODAY)

    assert match.person_ref == "P1"
    assert 0.85 <= match.confidence < 1.0
    assert "date of birth equal" in match.reasons
    assert "postcode equal" in match.reasons
    assert any(reason.startswith("family name similarity 0.8") for reason in match.reasons)


def test_a_date_of_birth_with_day_and_month_transposed_still_matches() -> None:
    subject = child(born=date(2015, 3, 4), postcode=None)
    register = [known("P1", born=date(2015, 4, 3))]

    (match,) = match_subjects([subject], register, on=TODAY)

    assert match.person_ref == "P1"
    assert "date of birth equal with day and month transposed" in match.reasons


def test_a_sibling_with_the_same_surname_at_the_same_postcode_is_not_matched() -> None:
    subject = child(given="Liam", family="Carter", born=date(2015, 4, 3))
    register = [known("P-SIS", given="Leah", family="Carter", born=date(2018, 11, 20), worker=WORKER)]

    assert match_subjects([subject], register, on=TODAY) == []
    confidence, reasons = match_confidence(subject, register[0], on=TODAY)
    assert confidence < 0.8
    assert "date of birth differs" in reasons


def test_the_best_of_several_candidates_is_chosen() -> None:
    subject = child(given="Liam", family="Carter", born=date(2015, 4, 3))
    register = [
        known("P-SIS", given="Leah", born=date(2018, 11, 20)),
        known("P-TYPO", given="Liam", born=date(2016, 4, 3)),
        known("P-SAME", given="Liam", born=date(2015, 4, 3)),
    ]

    (match,) = match_subjects([subject], register, on=TODAY)

    assert match.person_ref == "P-SAME"


def test_a_name_alone_never_reaches_the_threshold() -> None:
    subject = child(born=None, postcode=None)
    register = [known("P1")]

    assert match_subjects([subject], register, on=TODAY) == []


def test_an_estimated_age_is_weaker_evidence_than_a_date_of_birth() -> None:
    with_age = child(born=None, estimated_age=10)
    with_birth = child(born=date(2015, 4, 3))
    person = known("P1", born=date(2015, 4, 3))

    age_confidence, age_reasons = match_confidence(with_age, person, on=TODAY)
    birth_confidence, _ = match_confidence(with_birth, person, on=TODAY)

    assert age_confidence < birth_confidence
    assert any("estimated age 10 consistent" in reason for reason in age_reasons)


def test_different_nhs_numbers_count_against_a_match() -> None:
    subject = child(nhs="9434765919")
    person = known("P1", nhs="4010232137")

    confidence, reasons = match_confidence(subject, person, on=TODAY)

    assert confidence < 0.8
    assert "NHS number differs" in reasons


def test_an_unborn_child_is_not_matched_on_dates() -> None:
    baby_due = unborn(family="Carter")
    person = known("P1", given=None, family="Carter", born=date(2026, 5, 20))

    confidence, reasons = match_confidence(baby_due, person, on=TODAY)

    assert match_subjects([baby_due], [person], on=TODAY) == []
    assert "unborn child: not matched on date of birth" in reasons
    assert confidence < 0.5


def test_each_subject_gets_at_most_one_match() -> None:
    subjects = [child("s1"), child("s2", given="Ava", born=date(2017, 9, 3))]
    register = [
        known("P1"),
        known("P2", given="Ava", born=date(2017, 9, 3)),
        known("P3", given="Ava", born=date(2017, 9, 3)),
    ]

    matches = match_subjects(subjects, KnownPeopleIndex(register), on=TODAY)

    assert [(m.subject_id, m.person_ref) for m in matches] == [("s1", "P1"), ("s2", "P2")]


names = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=20)


@given(given_name=names, family=names, born=st.dates(min_value=date(1990, 1, 1), max_value=date(2026, 1, 1)))
def test_confidence_is_always_between_zero_and_one_and_an_identical_record_matches(
    given_name: str, family: str, born: date
) -> None:
    subject = child(given=given_name, family=family, born=born)
    person = known("P1", given=given_name, family=family, born=born)

    confidence, _ = match_confidence(subject, person, on=TODAY)

    assert 0.0 <= confidence <= 1.0
    assert confidence >= 0.8 or not any(ch.isalpha() for ch in family.casefold())
