"""SCENARIOS.md #4 (sealed police intelligence) and #5 (a quiet worry at school), through notify's messages."""

from __future__ import annotations

import pytest
from mash_notify.domain.messages import OutgoingMessage, messages_for
from mash_schemas import BragRating, InformationItem, NotificationKind, Outcome, Referrer

from tests.unit.notify.notify_builders import (
    RECIPIENTS,
    child,
    decision,
    decision_made,
    everything_sent,
    sealed_item,
    shared_item,
)

pytestmark = pytest.mark.unit

INTELLIGENCE = (
    "Northshire intelligence: Gary Lyle, boyfriend of the mother, is suspected (not convicted) of sexual "
    "offences against two girls aged 8 and 10; enquiries continue."
)
PERMITTED = "Police hold information that a man who may visit the home poses a risk of sexual harm to children."
ROUTE = "Call the Public Protection Unit on 0100 496 0000 and quote the MASH reference"
EDUCATION = "Confirms Lily Evans (aged 7) lives at 12 Orchard Way and attends Hill Primary School."

NEIGHBOURING_AUTHORITY = Referrer(
    role="duty social worker",
    agency="Northshire County Council children's services",
    name="Alex Morgan",
    email="alex.morgan@northshire.example.org",
)
SCHOOL = Referrer(
    role="designated safeguarding lead",
    agency="Hill Primary School",
    name="Priya Shah",
    email="dsl@hill-primary.example.org",
)
HEALTH = "Mother has seen her GP four times in six weeks; low mood, says she is not coping with the children."


def _sex_offender_case(police_item: InformationItem) -> list[OutgoingMessage]:
    return messages_for(
        decision_made(
            decision(
                items=[("police", police_item), ("education", shared_item("E1", EDUCATION, about="Lily Evans"))],
                referrer=NEIGHBOURING_AUTHORITY,
                rating=BragRating.RED,
                outcome=Outcome.CHILD_PROTECTION,
                receiving_service="assessment-team",
                rationale="Red: a man suspected of sexual offences may visit a home where a 7-year-old lives.",
                subjects=[child("Lily", "Evans")],
            )
        ),
        RECIPIENTS,
    )


def _sent(messages: list[OutgoingMessage], kind: NotificationKind) -> list[str]:
    return [everything_sent(message) for message in messages if message.kind is kind]


def test_scenario_4_sealed_intelligence_becomes_a_notice_of_who_holds_it() -> None:
    messages = _sex_offender_case(sealed_item("P1", INTELLIGENCE, route=ROUTE, about="Gary Lyle"))

    handoffs = _sent(messages, NotificationKind.HANDOFF)
    assert len(handoffs) == 2  # the assessment team's mailbox and its webhook
    for handoff in handoffs:
        assert f"Police holds information relevant to Lily Evans's safety. To request it: {ROUTE}." in handoff
        assert EDUCATION in handoff
        assert "Gary Lyle" not in handoff
        assert "sexual offences against" not in handoff
        assert PERMITTED not in handoff

    [feedback] = _sent(messages, NotificationKind.REFERRER_FEEDBACK)
    assert "child protection enquiry" in feedback
    assert "Gary Lyle" not in feedback
    assert "Police holds information" not in feedback
    assert ROUTE not in feedback
    assert EDUCATION not in feedback


def test_scenario_4_with_police_permission_the_permitted_wording_goes_instead() -> None:
    messages = _sex_offender_case(
        sealed_item("P1", INTELLIGENCE, permitted=True, wording=PERMITTED, route=ROUTE, about="Gary Lyle")
    )

    for handoff in _sent(messages, NotificationKind.HANDOFF):
        assert PERMITTED in handoff
        assert "Gary Lyle" not in handoff
        assert "Police holds information relevant" not in handoff
    [feedback] = _sent(messages, NotificationKind.REFERRER_FEEDBACK)
    assert PERMITTED not in feedback
    assert "Gary Lyle" not in feedback
    for notice in _sent(messages, NotificationKind.AGENCY_OUTCOME):
        assert PERMITTED not in notice
        assert EDUCATION not in notice


def test_scenario_5_health_information_reaches_early_help_and_the_school_hears_early_help_will_call() -> None:
    messages = messages_for(
        decision_made(
            decision(
                items=[("health", shared_item("H1", HEALTH, about="mother"))],
                referrer=SCHOOL,
                rating=BragRating.GREEN,
                outcome=Outcome.EARLY_HELP,
                receiving_service="early-help",
                rationale="Green: low-level worry at school and a mother who is struggling; Early Help fits.",
            )
        ),
        RECIPIENTS,
    )

    handoff_recipients = [m.recipient for m in messages if m.kind is NotificationKind.HANDOFF]
    assert handoff_recipients == ["early-help@example.org", "http://127.0.0.1:8710/hooks/early-help"]
    for handoff in _sent(messages, NotificationKind.HANDOFF):
        assert HEALTH in handoff
        assert "Priya Shah" in handoff

    [feedback] = [m for m in messages if m.kind is NotificationKind.REFERRER_FEEDBACK]
    assert (feedback.channel, feedback.recipient) == ("email", "dsl@hill-primary.example.org")
    assert "Early Help will contact the family" in feedback.body
    assert HEALTH not in everything_sent(feedback)

    [health_notice] = [m for m in messages if m.kind is NotificationKind.AGENCY_OUTCOME]
    assert health_notice.recipient == "mash-health@example.org"
    assert "The case now passes to Early Help." in health_notice.body
