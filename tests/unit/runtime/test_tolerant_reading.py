"""The consuming path reads as a tolerant reader (mash_runtime.consuming.subscribe, in memory on TestKafkaBroker):
a newer producer's extra field is ignored and the event applied, an older version is upcast, and a version with
no upcaster is set aside on the dead-letter topic with its reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import pytest
from faststream.kafka import TestKafkaBroker
from mash_runtime.broker import build_broker
from mash_runtime.consuming import DeadLetters, MessageOrigin, subscribe
from mash_runtime.screening import Refusal, screen, supported_schema_versions
from mash_runtime.settings import HubSettings
from mash_schemas import NotificationFailed, TimescaleAlert, TimescaleAlertRaised
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import DEAD_LETTER, NOTIFICATION_FAILED, TIMESCALE_ALERT
from pydantic import Field

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


class NextTimescaleAlert(TimescaleAlert):
    """case.timescale as the next release of decision writes it: one optional field more (additive)."""

    escalated_to: str | None = Field(None, description="Who the breach was escalated to.")


class NextTimescaleAlertRaised(EventEnvelope[NextTimescaleAlert]):
    TOPIC: ClassVar[str] = TIMESCALE_ALERT
    event_type: Literal["case.timescale"] = "case.timescale"


class Consumer:
    """One hub consumer of `model` on `topic`, with what it applied and what it set aside."""

    def __init__(self, topic: str, model: type[EventEnvelope[Any]]) -> None:
        self.settings = HubSettings(environment="test", topic_namespace="unittolerant", service_name="old",
                                    log_level="WARNING")
        self.broker = build_broker(self.settings)
        self.topic = self.settings.topic(topic)
        self.applied: list[Any] = []
        self.dead: list[dict[str, Any]] = []

        async def apply(event: Any, _origin: MessageOrigin) -> None:
            self.applied.append(event)

        subscribe(self.broker, self.settings, topic=self.topic, event_model=model, group_id="old.readers",
                  handler=apply, dead_letters=DeadLetters(self.broker, self.settings))

        @self.broker.subscriber(self.settings.topic(DEAD_LETTER))
        async def set_aside(body: dict[str, Any]) -> None:
            self.dead.append(body)

    async def deliver(self, *bodies: str) -> None:
        async with TestKafkaBroker(self.broker) as broker:
            for body in bodies:
                await broker.publish(body, self.topic, key=b"MASH-1")


def alert(**overrides: Any) -> dict[str, Any]:
    return {"referral_id": "MASH-1", "rating": "red", "target": "red: 4 working hours", "due_at": AT,
            "status": "breached", "working_minutes_left": -30} | overrides


async def test_an_old_consumer_applies_the_event_of_a_newer_producer_that_added_a_field() -> None:
    consumer = Consumer(TIMESCALE_ALERT, TimescaleAlertRaised)
    newer = NextTimescaleAlertRaised.build(NextTimescaleAlert(**alert(), escalated_to="head of service"),
                                           correlation_id="MASH-1", producer="decision")
    body = json.loads(newer.model_dump_json())
    body["region"] = "south-west"  # and one in the envelope too
    assert body["payload"]["escalated_to"] == "head of service"

    await consumer.deliver(json.dumps(body))

    assert consumer.dead == []
    (applied,) = consumer.applied
    assert isinstance(applied, TimescaleAlertRaised)
    assert applied.event_id == newer.event_id
    assert applied.payload == TimescaleAlert(**alert())


async def test_a_version_1_event_is_upcast_by_the_example_upcaster_before_the_handler_sees_it() -> None:
    consumer = Consumer(NOTIFICATION_FAILED, NotificationFailed)
    version_1 = {
        "event_id": str(uuid.uuid4()), "event_type": "notification.failed", "schema_version": 1,
        "occurred_at": AT.isoformat(), "correlation_id": "MASH-1", "producer": "notify",
        "payload": {"notification_id": "N-1", "referral_id": "MASH-1", "decision_id": "D-1", "kind": "handoff",
                    "recipient": "assessment-team", "channel": "webhook", "failed_at": AT.isoformat(),
                    "retries": 7, "last_error": "HTTP 503 from the receiving service"},
    }

    await consumer.deliver(json.dumps(version_1))

    assert consumer.dead == []
    (applied,) = consumer.applied
    assert (applied.schema_version, applied.payload.attempts, applied.payload.reason) == (
        2, 8, "HTTP 503 from the receiving service")


async def test_a_version_with_no_upcaster_is_dead_lettered_with_its_reason() -> None:
    consumer = Consumer(TIMESCALE_ALERT, TimescaleAlertRaised)
    current = json.loads(TimescaleAlertRaised.build(TimescaleAlert(**alert()), correlation_id="MASH-1",
                                                    producer="decision").model_dump_json())

    await consumer.deliver(json.dumps({**current, "schema_version": 2}), json.dumps(current))

    assert len(consumer.applied) == 1  # the partition kept flowing
    (letter,) = consumer.dead
    assert letter["payload"]["error_type"] == "unsupported_schema_version"
    assert letter["payload"]["reason"] == (
        "schema_version 2 is not supported by this consumer (supported: 1); no upcaster exists for it")
    assert letter["payload"]["consumer"] == "old/old.readers"


def test_screen_lists_the_versions_its_upcasters_reach() -> None:
    assert supported_schema_versions(NotificationFailed) == {1, 2}
    assert supported_schema_versions(TimescaleAlertRaised) == {1}
    refused = screen(json.dumps({"event_type": "notification.failed", "schema_version": 9}).encode(),
                     NotificationFailed, 1_000_000)
    assert refused == Refusal("unsupported_schema_version",
                              "schema_version 9 is not supported by this consumer (supported: 1, 2); "
                              "no upcaster exists for it")


def test_a_malformed_older_version_is_refused_as_invalid_not_raised() -> None:
    broken = {"event_type": "notification.failed", "schema_version": 1, "payload": "not an object"}
    refused = screen(json.dumps(broken).encode(), NotificationFailed, 1_000_000)
    assert isinstance(refused, Refusal)
    assert refused.error_type == "invalid_event"


def test_a_producer_still_cannot_emit_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="escalated_to"):
        TimescaleAlert(**alert(), escalated_to="head of service")
