"""Insight's consumers in memory (TestKafkaBroker): an event delivered twice is kept once, a poison message is
set aside on the dead-letter topic and counted in /metrics' counters, and the partition keeps flowing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from mash_insight.fact_recording import FactRecorder
from mash_insight.handlers.kafka import subscribe_all
from mash_insight.settings import InsightSettings
from mash_runtime import metrics
from mash_runtime.service import ServiceRuntime
from mash_schemas.topics import DEAD_LETTER, REFERRAL_RECEIVED

from tests.support.insight_events import referral_event
from tests.unit.insight.memory_facts import MemoryFactStore

pytestmark = pytest.mark.unit


def counter(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


async def test_a_redelivered_event_is_kept_once_and_a_poison_message_is_dead_lettered_and_counted() -> None:
    settings = InsightSettings(environment="test", topic_namespace="unitinsight", log_level="WARNING")
    runtime = ServiceRuntime(settings)
    store = MemoryFactStore()
    subscribe_all(runtime, FactRecorder(store), "1")
    topic = settings.topic(REFERRAL_RECEIVED)
    dead: list[dict[str, Any]] = []

    @runtime.broker.subscriber(settings.topic(DEAD_LETTER))
    async def set_aside(body: dict[str, Any]) -> None:
        dead.append(body)

    event = referral_event("MASH-1", datetime(2026, 3, 2, 10, tzinfo=UTC), person_refs=("LA-1",))
    labels = {"service": "insight", "topic": topic}
    consumed_before = counter("mash_events_consumed_total", group="unitinsight.insight.1.referrals", **labels)
    dead_before = counter("mash_events_dead_lettered_total", error_type="not_json", **labels) + counter(
        "mash_events_dead_lettered_total", error_type="invalid_event", **labels)
    async with TestKafkaBroker(runtime.broker) as broker:
        for body in (event.model_dump_json(), event.model_dump_json(), "{not json"):
            await broker.publish(body, topic, key=b"MASH-1")
    assert [fact.key() for fact in store.kept.values()] == ["MASH-1"]
    assert [letter["payload"]["origin_topic"] for letter in dead] == [topic]
    assert counter("mash_events_consumed_total", group="unitinsight.insight.1.referrals", **labels) == (
        consumed_before + 3)
    dead_after = counter("mash_events_dead_lettered_total", error_type="not_json", **labels) + counter(
        "mash_events_dead_lettered_total", error_type="invalid_event", **labels)
    assert dead_after == dead_before + 1
