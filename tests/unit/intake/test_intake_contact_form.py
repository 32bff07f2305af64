"""The contact form: what validates, what is refused (naming the field), and the referral built from it."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mash_intake.domain.contact_form import (
    MAX_ATTACHMENT_BYTES,
    MAX_NARRATIVE_CHARS,
    POLICE_CONSENT_REASON,
    ContactCorrection,
    ContactSubmission,
    build_amendment,
    build_referral,
    police_concern,
    referral_from_police_notification,
)
from mash_schemas.common import BragRating, ConcernCategory, ConsentStatus
from mash_schemas.referral import SubjectMatch, SuggestedRating
from pydantic import ValidationError

from tests.unit.intake.intake_builders import NOW, child, notification, submission_payload, unborn

pytestmark = pytest.mark.unit

RATING = SuggestedRating(rating=BragRating.GREEN, reasons=["test"])


def _error_locations(error: ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(issue["loc"]) for issue in error.errors()]


def test_a_complete_contact_validates() -> None:
    contact = ContactSubmission.model_validate(submission_payload())

    assert contact.subjects[0].family_name == "Hughes"
    assert contact.concern.actions_taken == "Spoke to mother at the gate."
    assert contact.attachments[0].size_bytes == 52_000


def test_a_typo_in_a_field_name_is_refused_naming_the_field() -> None:
    payload = submission_payload(concen={"categories": ["neglect"], "narrative": "x"})

    with pytest.raises(ValidationError) as caught:
        ContactSubmission.model_validate(payload)

    assert ("concen",) in _error_locations(caught.value)


def test_a_typo_inside_a_subject_is_refused_naming_the_field() -> None:
    payload = submission_payload()
    payload["subjects"][0]["date_of_brith"] = "2017-06-01"

    with pytest.raises(ValidationError) as caught:
        ContactSubmission.model_validate(payload)

    assert ("subjects", 0, "date_of_brith") in _error_locations(caught.value)


@pytest.mark.parametrize(
    ("attachments", "location"),
    [
        ([{"file_name": "a.pdf", "media_type": "application/pdf", "size_bytes": 1}] * 11, ("attachments",)),
        (
            [{"file_name": "a.pdf", "media_type": "application/pdf", "size_bytes": MAX_ATTACHMENT_BYTES + 1}],
            ("attachments", 0, "size_bytes"),
        ),
        (
            [{"file_name": "a" * 201, "media_type": "application/pdf", "size_bytes": 10}],
            ("attachments", 0, "file_name"),
        ),
        (
            [{"file_name": "../../etc/passwd", "media_type": "text/plain", "size_bytes": 10}],
            ("attachments", 0, "file_name"),
        ),
        (
            [{"file_name": "photo.jpg", "media_type": "not a media type", "size_bytes": 10}],
            ("attachments", 0, "media_type"),
        ),
        ([{"file_name": "empty.txt", "media_type": "text/plain", "size_bytes": 0}], ("attachments", 0, "size_bytes")),
    ],
)
def test_attachment_limits(attachments: list[dict[str, Any]], location: tuple[int | str, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        ContactSubmission.model_validate(submission_payload(attachments=attachments))

    assert location in _error_locations(caught.value)


def test_ten_attachments_of_twenty_megabytes_are_accepted() -> None:
    attachments = [
        {"file_name": f"scan-{n}.pdf", "media_type": "application/pdf", "size_bytes": MAX_ATTACHMENT_BYTES}
        for n in range(10)
    ]

    contact = ContactSubmission.model_validate(submission_payload(attachments=attachments))

    assert len(contact.attachments) == 10


def test_a_narrative_over_the_limit_is_refused() -> None:
    concern = {"categories": ["neglect"], "narrative": "x" * (MAX_NARRATIVE_CHARS + 1)}

    with pytest.raises(ValidationError) as caught:
        ContactSubmission.model_validate(submission_payload(concern=concern))

    assert ("concern", "narrative") in _error_locations(caught.value)


def test_two_subjects_with_one_id_are_refused() -> None:
    payload = submission_payload()
    payload["subjects"] = payload["subjects"] * 2

    with pytest.raises(ValidationError, match="subject_id must be unique"):
        ContactSubmission.model_validate(payload)


def test_refused_consent_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="reason is required"):
        ContactSubmission.model_validate(submission_payload(consent={"status": "refused", "recorded_by": "Ann"}))


def test_a_member_of_the_public_can_refer_without_an_agency() -> None:
    referrer = {"role": "member of the public", "name": "A Neighbour", "is_member_of_public": True}

    contact = ContactSubmission.model_validate(submission_payload(referrer=referrer))

    assert contact.referrer.is_member_of_public
    assert contact.referrer.agency is None


def test_the_referral_carries_the_contact_and_intakes_findings() -> None:
    contact = ContactSubmission.model_validate(submission_payload())
    match = SubjectMatch(subject_id="s1", person_ref="P-9", confidence=0.9)

    referral = build_referral(
        contact,
        referral_id="R-1",
        received_at=NOW,
        suggested_rating=RATING,
        matches=[match],
        linked_referrals=["R-0"],
        source="api",
    )

    assert referral.source == "api"
    assert referral.subjects == contact.subjects
    assert referral.household == contact.household
    assert referral.concern == contact.concern
    assert referral.consent == contact.consent
    assert referral.matches == [match]
    assert referral.linked_referrals == ["R-0"]


def test_a_correction_must_correct_something() -> None:
    with pytest.raises(ValidationError, match="must add information"):
        ContactCorrection.model_validate({"amended_by": "Ann Teacher"})


def test_a_correction_becomes_an_amendment() -> None:
    correction = ContactCorrection.model_validate(
        {
            "amended_by": "Ann Teacher",
            "additional_information": "Mother's partner has moved in.",
            "household_added": [{"given_name": "Dan", "family_name": "Price", "relationship": "partner"}],
            "consent": {"status": "refused", "reason": "mother declined", "recorded_by": "Ann Teacher"},
        }
    )

    amendment = build_amendment(correction, referral_id="R-1", amended_at=NOW)

    assert amendment.referral_id == "R-1"
    assert amendment.household_added[0].family_name == "Price"
    assert amendment.consent is not None
    assert amendment.consent.status is ConsentStatus.REFUSED


# --- police notifications ------------------------------------------------------------------------


def test_a_police_notification_becomes_a_referral_from_the_officer() -> None:
    notice = notification(
        "drugs_warrant",
        subjects=[unborn()],
        flags=["Pregnancy", "neglect"],
        narrative="Warrant executed; young woman holding a large quantity of diazepam.",
    )

    referral = referral_from_police_notification(
        notice, referral_id="R-7", received_at=NOW, suggested_rating=RATING, matches=[], linked_referrals=[]
    )

    assert referral.source == "police_notification"
    assert referral.referrer.role == "police officer"
    assert referral.referrer.agency == "Devon and Cornwall Police"
    assert referral.referrer.name == "PC 1234 Jones"
    assert not referral.referrer.is_member_of_public
    assert referral.consent.status is ConsentStatus.NOT_SOUGHT
    assert referral.consent.reason == POLICE_CONSENT_REASON
    assert referral.concern.categories == [ConcernCategory.PARENTAL_SUBSTANCE_MISUSE, ConcernCategory.NEGLECT]
    assert "diazepam" in referral.concern.narrative
    assert "PN-1" in referral.concern.narrative
    assert referral.subjects == notice.subjects


@pytest.mark.parametrize(
    ("notification_type", "flags", "expected"),
    [
        ("domestic_abuse", [], [ConcernCategory.DOMESTIC_ABUSE]),
        ("sexual_offender_alert", [], [ConcernCategory.SEXUAL_OFFENDER_CONTACT]),
        ("missing_person", ["County Lines"], [ConcernCategory.MISSING, ConcernCategory.CHILD_EXPLOITATION]),
        ("crime_suspect", [], [ConcernCategory.OFFENDING_BEHAVIOUR]),
        ("other", [], [ConcernCategory.OTHER]),
        ("public_protection", ["FGM"], [ConcernCategory.FGM]),
    ],
)
def test_police_concern_categories_follow_type_and_flags(
    notification_type: str, flags: list[str], expected: list[ConcernCategory]
) -> None:
    assert police_concern(notification(notification_type, flags=flags)).categories == expected


def test_the_dash_level_reaches_the_screener_in_the_narrative() -> None:
    concern = police_concern(notification("domestic_abuse", dash_risk="high", children_present=True))

    assert "DASH risk: high." in concern.narrative
    assert "Children present: yes." in concern.narrative


def test_a_malformed_officer_email_does_not_cost_the_referral() -> None:
    notice = notification("sexual_offender_alert", officer_email="not-an-address")

    referral = referral_from_police_notification(
        notice, referral_id="R-8", received_at=NOW, suggested_rating=RATING, matches=[], linked_referrals=[]
    )

    assert referral.referrer.email is None


def test_a_long_police_narrative_is_cut_to_fit_and_says_where_the_rest_is() -> None:
    notice = notification("public_protection", subjects=[child()], narrative="y" * MAX_NARRATIVE_CHARS)

    concern = police_concern(notice)

    assert len(concern.narrative) <= MAX_NARRATIVE_CHARS
    assert concern.narrative.endswith("[truncated: full text on police notification PN-1]")


# --- property tests: whatever arrives, the outcome is a model or a ValidationError (a 422) ----------

_json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
_field_names = st.sampled_from(
    ["referrer", "subjects", "household", "concern", "consent", "attachments", "extra", "subject_id", "kind"]
)


def _validates_or_refuses(payload: object) -> None:
    with contextlib.suppress(ValidationError):
        ContactSubmission.model_validate(payload)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_random_json_validates_or_raises_validation_error(payload: object) -> None:
    _validates_or_refuses(payload)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(field=_field_names, value=_json, path_depth=st.integers(min_value=0, max_value=2))
def test_a_valid_contact_with_one_field_broken_validates_or_raises_validation_error(
    field: str, value: object, path_depth: int
) -> None:
    payload = submission_payload()
    # Break the contact at the top level, inside the first subject, or inside the concern.
    target: dict[str, Any] = [payload, payload["subjects"][0], payload["concern"]][path_depth]
    target[field] = value
    _validates_or_refuses(payload)


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes_as_json_raise_validation_error(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        ContactSubmission.model_validate_json(raw)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["child", "unborn_child", "adult_at_risk", "alien"]),
    born=st.none() | st.dates().map(str) | st.text(max_size=12),
    expected=st.none() | st.dates().map(str),
    estimated_age=st.none() | st.integers(min_value=-5, max_value=200),
    nhs=st.none() | st.from_regex(r"[0-9]{8,11}", fullmatch=True),
    postcode=st.none() | st.sampled_from(["EX1 2AB", "ex12ab", "SW1A 1AA", "12345", ""]),
)
def test_subject_combinations_validate_or_raise_validation_error(
    kind: str, born: str | None, expected: str | None, estimated_age: int | None, nhs: str | None, postcode: str | None
) -> None:
    payload = submission_payload()
    payload["subjects"] = [
        {
            "subject_id": "s1",
            "kind": kind,
            "family_name": "Hughes",
            "date_of_birth": born,
            "expected_date": expected,
            "estimated_age": estimated_age,
            "nhs_number": nhs,
            "address": {"postcode": postcode},
        }
    ]
    _validates_or_refuses(payload)


def test_the_property_tests_can_see_an_accepted_contact() -> None:
    # Guards the properties above against passing only because everything is refused.
    assert ContactSubmission.model_validate(submission_payload()).consent.recorded_by == "Ann Teacher"
