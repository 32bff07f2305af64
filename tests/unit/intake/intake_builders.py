"""Builders of contacts, police notifications and known people for intake's unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from mash_intake.domain.contact_form import ContactSubmission
from mash_intake.domain.register import KnownPerson
from mash_schemas.common import Address, AllocatedWorker, ConcernCategory, Subject, SubjectKind
from mash_schemas.police import PoliceNotification

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = NOW.date()


def child(
    subject_id: str = "s1",
    *,
    given: str | None = "Liam",
    family: str = "Carter",
    born: date | None = date(2015, 4, 3),
    estimated_age: int | None = None,
    nhs: str | None = None,
    postcode: str | None = "EX1 2AB",
    kind: SubjectKind = SubjectKind.CHILD,
    expected: date | None = None,
) -> Subject:
    """A subject (a child unless `kind` says otherwise)."""
    return Subject(
        subject_id=subject_id,
        kind=kind,
        given_name=given,
        family_name=family,
        date_of_birth=born,
        estimated_age=estimated_age,
        expected_date=expected,
        nhs_number=nhs,
        address=Address(lines=["1 High Street"], town="Exeter", postcode=postcode) if postcode else None,
    )


def unborn(subject_id: str = "u1", *, family: str = "Walsh", expected: date = date(2026, 5, 20)) -> Subject:
    """An unborn child with an expected date of delivery."""
    return child(subject_id, given=None, family=family, born=None, kind=SubjectKind.UNBORN_CHILD, expected=expected)


def submission_payload(**overrides: Any) -> dict[str, Any]:
    """A valid contact-form payload as JSON-like data; `overrides` replace top-level fields."""
    payload: dict[str, Any] = {
        "referrer": {
            "role": "designated safeguarding lead",
            "agency": "Riverside Primary School",
            "name": "Ann Teacher",
            "email": "dsl@riverside.example.org",
        },
        "subjects": [
            {
                "subject_id": "s1",
                "given_name": "Mia",
                "family_name": "Hughes",
                "date_of_birth": "2017-06-01",
                "address": {"lines": ["4 Mill Lane"], "postcode": "EX2 4QP"},
            }
        ],
        "household": [{"given_name": "Jo", "family_name": "Hughes", "relationship": "mother"}],
        "concern": {
            "categories": ["emotional_wellbeing"],
            "narrative": "Mia has seemed withdrawn in class for several weeks.",
            "actions_taken": "Spoke to mother at the gate.",
        },
        "consent": {"status": "given", "recorded_by": "Ann Teacher"},
        "attachments": [{"file_name": "chronology.pdf", "media_type": "application/pdf", "size_bytes": 52_000}],
    }
    payload.update(overrides)
    return payload


def submission(
    categories: list[ConcernCategory],
    narrative: str,
    subjects: list[Subject] | None = None,
    **overrides: Any,
) -> ContactSubmission:
    """A contact submission with the given concern and subjects."""
    payload = submission_payload(concern={"categories": categories, "narrative": narrative}, **overrides)
    if subjects is not None:
        payload["subjects"] = [subject.model_dump() for subject in subjects]
    return ContactSubmission.model_validate(payload)


def notification(
    notification_type: str = "domestic_abuse",
    *,
    notification_id: str = "PN-1",
    dash_risk: str | None = None,
    children_present: bool = False,
    subjects: list[Subject] | None = None,
    household: list[dict[str, Any]] | None = None,
    flags: list[str] | None = None,
    narrative: str = "Officers attended a verbal argument between two adults.",
    officer_email: str | None = "pc.jones@police.example.uk",
) -> PoliceNotification:
    """A police notification; by default an adult-only, standard incident."""
    adult = Subject(subject_id="a1", kind=SubjectKind.ADULT_AT_RISK, given_name="Sam", family_name="Reed")
    return PoliceNotification.model_validate(
        {
            "notification_id": notification_id,
            "force": "Devon and Cornwall Police",
            "notification_type": notification_type,
            "incident_at": NOW,
            "reporting_officer": "PC 1234 Jones",
            "officer_email": officer_email,
            "dash_risk": dash_risk,
            "children_present": children_present,
            "subjects": [subject.model_dump() for subject in (subjects or [adult])],
            "household": household or [],
            "flags": flags or [],
            "narrative": narrative,
        }
    )


def known(
    person_ref: str,
    *,
    given: str | None = "Liam",
    family: str = "Carter",
    born: date | None = date(2015, 4, 3),
    nhs: str | None = None,
    postcode: str | None = "EX1 2AB",
    worker: AllocatedWorker | None = None,
) -> KnownPerson:
    """A person on the local authority's register."""
    return KnownPerson(
        person_ref=person_ref,
        given_name=given,
        family_name=family,
        date_of_birth=born,
        nhs_number=nhs,
        postcode=postcode,
        allocated_worker=worker,
    )
