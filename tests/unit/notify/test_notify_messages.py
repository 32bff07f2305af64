"""The messages a decision leads to: recipients per channel, deterministic ids, signed JSON for webhooks."""

from __future__ import annotations

import json
import uuid

import pytest
from mash_notify.domain.messages import OutgoingMessage, messages_for
from mash_notify.domain.recipients import ReceivingServiceNotConfiguredError, parse_recipients
from mash_schemas import AllocatedWorker, NotificationKind, Outcome

from tests.unit.notify.notify_builders import (
    RECIPIENTS,
    decision,
    decision_made,
    member_of_public,
    professional,
    sealed_item,
    shared_item,
)

pytestmark = pytest.mark.unit

ITEMS = [
    ("health", shared_item("H1", "Mother not coping, GP visits weekly.")),
    ("police", sealed_item("P1", "Intelligence about a visitor, sealed by police.")),
    ("ambulance", shared_item("A1", "Two call-outs to the address in January.")),
]


def _by(messages: list[OutgoingMessage], kind: NotificationKind) -> list[tuple[str, str, str]]:
    return [(m.addressee, m.channel, m.recipient) for m in messages if m.kind is kind]


def test_a_decision_reaches_the_receiving_service_the_referrer_and_every_consulted_agency() -> None:
    messages = messages_for(decision_made(decision(items=ITEMS)), RECIPIENTS)

    assert _by(messages, NotificationKind.HANDOFF) == [
        ("service:assessment-team", "email", "assessment-team@example.org"),
        ("service:assessment-team", "webhook", "http://127.0.0.1:8710/hooks/assessment-team"),
    ]
    assert _by(messages, NotificationKind.REFERRER_FEEDBACK) == [("referrer", "email", "dsl@hill-primary.example.org")]
    assert _by(messages, NotificationKind.AGENCY_OUTCOME) == [
        ("agency:health", "email", "mash-health@example.org"),
        ("agency:police", "email", "mash-police@example.org"),
        ("agency:police", "webhook", "http://127.0.0.1:8710/hooks/police"),
        # Not configured: the notice is kept on record rather than holding up the hand-off.
        ("agency:ambulance", "record", "agency:ambulance"),
    ]


def test_a_redelivered_decision_yields_the_same_messages_and_ids() -> None:
    first = messages_for(decision_made(decision(items=ITEMS)), RECIPIENTS)
    again = messages_for(decision_made(decision(items=ITEMS)), RECIPIENTS)

    assert first == again
    ids = [message.notification_id for message in first]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(message_id).version == 5 for message_id in ids)


def test_the_same_decision_published_again_under_a_new_event_id_yields_the_same_ids() -> None:
    first = messages_for(decision_made(decision(items=ITEMS)), RECIPIENTS)
    again = messages_for(decision_made(decision(items=ITEMS), event_id=uuid.uuid4()), RECIPIENTS)

    assert [m.notification_id for m in again] == [m.notification_id for m in first]


def test_another_decision_yields_different_ids() -> None:
    first = messages_for(decision_made(decision(items=ITEMS)), RECIPIENTS)
    other = messages_for(decision_made(decision(items=ITEMS, decision_id="D-2002"), event_id=uuid.uuid4()),
                         RECIPIENTS)

    assert not {m.notification_id for m in first} & {m.notification_id for m in other}


def test_two_agencies_sharing_a_mailbox_get_two_notices() -> None:
    config = parse_recipients(
        "receiving_services:\n  assessment-team: {display_name: AT, emails: [at@example.org]}\n"
        "agencies:\n"
        "  health: {display_name: Health, emails: [shared@example.org]}\n"
        "  ambulance: {display_name: Ambulance, emails: [shared@example.org]}\n"
    )
    messages = messages_for(decision_made(decision(items=ITEMS)), config)
    notices = [m for m in messages if m.recipient == "shared@example.org"]

    assert [m.addressee for m in notices] == ["agency:health", "agency:ambulance"]
    assert notices[0].notification_id != notices[1].notification_id


def test_a_referrer_without_an_email_address_has_the_feedback_recorded() -> None:
    messages = messages_for(decision_made(decision(referrer=professional(email=None))), RECIPIENTS)

    feedback = [m for m in messages if m.kind is NotificationKind.REFERRER_FEEDBACK]
    assert [(m.channel, m.recipient) for m in feedback] == [("record", "referrer")]
    assert "What happens next" in feedback[0].body


def test_a_member_of_the_publics_address_is_used_but_not_logged() -> None:
    messages = messages_for(decision_made(decision(referrer=member_of_public())), RECIPIENTS)

    [feedback] = [m for m in messages if m.kind is NotificationKind.REFERRER_FEEDBACK]
    assert feedback.recipient == "worried.neighbour@example.org"
    assert feedback.recipient_label == "member of the public"
    assert "The hub has considered your concern and taken appropriate action." in feedback.body


def test_the_allocated_worker_gets_the_hand_off_directly() -> None:
    worker = AllocatedWorker(name="Jo Reid", team="Exeter North", email="jo.reid@example.org")
    messages = messages_for(
        decision_made(
            decision(outcome=Outcome.ALLOCATED_WORKER, receiving_service="allocated-worker", allocated_worker=worker)
        ),
        RECIPIENTS,
    )

    assert ("allocated-worker", "email", "jo.reid@example.org") in _by(messages, NotificationKind.HANDOFF)


def test_a_record_only_service_gets_a_record() -> None:
    messages = messages_for(
        decision_made(decision(outcome=Outcome.NO_FURTHER_ACTION, receiving_service="information-only")),
        RECIPIENTS,
    )

    assert _by(messages, NotificationKind.HANDOFF) == [
        ("service:information-only", "record", "service:information-only")
    ]


def test_webhooks_carry_the_gated_summary_as_canonical_json() -> None:
    messages = messages_for(decision_made(decision(items=ITEMS)), RECIPIENTS)
    [webhook] = [m for m in messages if m.kind is NotificationKind.HANDOFF and m.channel == "webhook"]

    assert webhook.secret_name == "MASH_WEBHOOK_SECRET_ASSESSMENT_TEAM"
    assert webhook.json_body is not None
    content = json.loads(webhook.json_body)
    assert content["notification_id"] == webhook.notification_id
    assert content["kind"] == "handoff"
    assert [item["wording"] for item in content["content"]["shared_items"]] == [
        "Mother not coping, GP visits weekly.",
        "Two call-outs to the address in January.",
    ]
    assert "Intelligence about a visitor" not in webhook.json_body
    assert json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == webhook.json_body
    emails = [m for m in messages if m.channel == "email"]
    assert all(m.json_body is None and m.secret_name is None for m in emails)


def test_a_receiving_service_without_recipients_stops_everything() -> None:
    with pytest.raises(ReceivingServiceNotConfiguredError) as stopped:
        messages_for(decision_made(decision(receiving_service="youth-justice-team")), RECIPIENTS)

    assert stopped.value.service == "youth-justice-team"
