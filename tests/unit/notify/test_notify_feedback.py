"""Referrer feedback: the outcome and next step for professionals, an acknowledgement for the public."""

from __future__ import annotations

import pytest
from mash_notify.domain.feedback import (
    FEEDBACK_WORDS,
    PUBLIC_ACKNOWLEDGEMENT,
    ProfessionalFeedback,
    PublicFeedback,
    referrer_feedback,
)
from mash_notify.domain.rendering import render_feedback
from mash_schemas import InformationItem, Outcome, Referrer

from tests.unit.notify.notify_builders import decision, member_of_public, professional, sealed_item, shared_item

pytestmark = pytest.mark.unit

RATIONALE = "Probation confirm the father is released on 12 March; health report missed appointments."


def _agency_items() -> list[tuple[str, InformationItem]]:
    return [
        ("health", shared_item("H1", "Mother has a history of depression, two missed appointments.")),
        ("police", sealed_item("P1", "Intelligence on a visitor to the home, not for onward sharing.")),
    ]


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.EARLY_HELP, "Early Help will contact the family"),
        (Outcome.ALLOCATED_WORKER, "passed your referral to the social worker already working with the family"),
        (Outcome.CHILD_PROTECTION, "child protection enquiry"),
        (Outcome.STATUTORY_ASSESSMENT, "A social worker will contact the family to carry out an assessment"),
        (Outcome.TARGETED_FAMILY_SUPPORT, "A family support worker will contact the family"),
        (Outcome.UNIVERSAL_SERVICES, "universal services"),
        (Outcome.NO_FURTHER_ACTION, "no further action"),
    ],
)
def test_a_professional_hears_the_outcome_and_what_happens_next(outcome: Outcome, expected: str) -> None:
    feedback = referrer_feedback(decision(outcome=outcome, referrer=professional()))
    body = render_feedback(feedback).body

    assert isinstance(feedback, ProfessionalFeedback)
    assert expected in body
    assert FEEDBACK_WORDS[outcome].next_step in body
    assert "Lily Evans" in body
    assert "R-2025-0042" in body


@pytest.mark.parametrize("outcome", list(Outcome))
def test_a_member_of_the_public_hears_only_that_the_hub_acted(outcome: Outcome) -> None:
    feedback = referrer_feedback(decision(outcome=outcome, referrer=member_of_public()))
    rendered = render_feedback(feedback)

    assert isinstance(feedback, PublicFeedback)
    assert PUBLIC_ACKNOWLEDGEMENT in rendered.body
    for words in FEEDBACK_WORDS.values():
        assert words.decided not in rendered.body
        assert words.next_step not in rendered.body
    assert "Lily" not in rendered.body  # the child is not named back to a member of the public
    assert "Early Help" not in rendered.body
    assert "social worker" not in rendered.body


def test_the_public_model_cannot_carry_an_outcome() -> None:
    assert not {"outcome", "outcome_title", "next_step", "decided", "subjects"} & set(PublicFeedback.model_fields)


@pytest.mark.parametrize("referrer", [professional(), member_of_public()], ids=["professional", "public"])
def test_feedback_never_carries_agency_information_or_the_rationale(referrer: Referrer) -> None:
    items = _agency_items()
    rendered = render_feedback(referrer_feedback(decision(items=items, rationale=RATIONALE, referrer=referrer)))
    text = rendered.subject + rendered.body

    assert RATIONALE not in text
    assert "father" not in text
    for agency, item in items:
        assert item.summary not in text
        assert agency not in text.lower()
    assert "holds information" not in text
