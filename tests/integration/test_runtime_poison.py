"""Poison on the real broker: what a foreign client can put on a consumed topic never blocks its partition.

Each test puts one or more malformed records on a one-partition topic, then a canary with the same key
behind them, and checks that the canary is applied and each malformed record is on the dead-letter
topic with its reason, its origin, its size and digest, and never more bytes than the topic accepts.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from mash_runtime.broker import build_broker
from mash_runtime.consuming import DeadLetters, MessageOrigin, subscribe
from mash_runtime.settings import HubSettings
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.enquiry import AgencyFindings, EnquiryAddendum, EnquiryAddendumRecorded
from mash_schemas.topics import DEAD_LETTER, ENQUIRY_ADDENDUM

from tests.support.infrastructure import Infrastructure
from tests.support.topics import Recorded, TopicRecorder, produce_raw
from tests.support.waiting import eventually

KEY = b"R-same-key"


def _event(referral_id: str) -> EnquiryAddendumRecorded:
    findings = AgencyFindings(agency="health", outcome="nothing_known", responded_at=datetime.now(UTC))
    payload = EnquiryAddendum(enquiry_id="E1", referral_id=referral_id, findings=findings)
    return EnquiryAddendumRecorded.build(payload, correlation_id=referral_id, producer="test")


def _settings(infrastructure: Infrastructure, namespace: str) -> HubSettings:
    return HubSettings(kafka_bootstrap=infrastructure.kafka_bootstrap, topic_namespace=namespace,
                       service_name="poison-test", consumer_max_attempts=3)


@pytest.fixture
async def settings(infrastructure: Infrastructure, namespace: str) -> HubSettings:
    hub = _settings(infrastructure, namespace)
    await ensure_topics(hub, [hub.topic(ENQUIRY_ADDENDUM), hub.topic(DEAD_LETTER)], {hub.topic(ENQUIRY_ADDENDUM): 1})
    return hub


class Canary:
    """A subscriber that records the correlation ids of the events it applied."""

    def __init__(self, settings: HubSettings) -> None:
        self.applied: list[str] = []
        self.broker: KafkaBroker = build_broker(settings)
        subscribe(self.broker, settings, topic=settings.topic(ENQUIRY_ADDENDUM), event_model=EnquiryAddendumRecorded,
                  group_id="poison-under-test", handler=self.handle, dead_letters=DeadLetters(self.broker, settings))

    async def handle(self, event: EnquiryAddendumRecorded, _: MessageOrigin) -> None:
        self.applied.append(event.correlation_id)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Canary]:
        await self.broker.start()
        try:
            yield self
        finally:
            await self.broker.stop()


async def _run(settings: HubSettings, poison: list[bytes | None], expected_letters: int) -> list[dict[str, Any]]:
    """Put `poison` then a canary on the topic (same key); wait for the canary and the dead letters."""
    topic = settings.topic(ENQUIRY_ADDENDUM)
    for value in poison:
        await produce_raw(settings.kafka_bootstrap, topic, value, key=KEY)  # type: ignore[arg-type]
    canary = _event("R-canary")
    await produce_raw(settings.kafka_bootstrap, topic, canary.model_dump_json().encode(), key=KEY)
    consumer = Canary(settings)
    recorder = TopicRecorder(settings.kafka_bootstrap, [settings.topic(DEAD_LETTER)])
    async with recorder.running(), consumer.running():
        await eventually(lambda: _true(consumer.applied == ["R-canary"]), timeout=60, what="the canary applied")
        await eventually(lambda: _true(len(recorder.records) >= expected_letters), what="the dead letters")
    assert len(recorder.records) == expected_letters
    return [_letter(record) for record in sorted(recorder.records, key=lambda r: r.json()["payload"]["origin_offset"])]


def _letter(record: Recorded) -> dict[str, Any]:
    assert len(record.value) < 128 * 1024, "a dead letter must stay far below the topic's limit"
    payload: dict[str, Any] = record.json()["payload"]
    return payload


async def test_a_near_limit_value_is_dead_lettered_with_digest_and_prefix_and_the_canary_behind_it_flows(
    settings: HubSettings,
) -> None:
    big = json.dumps({"pad": "x" * 900_000}).encode()
    (letter,) = await _run(settings, [big], expected_letters=1)
    assert letter["error_type"] == "oversize_value"
    assert str(len(big)) in letter["reason"]
    assert letter["origin_topic"] == settings.topic(ENQUIRY_ADDENDUM) and letter["origin_offset"] == 0
    assert letter["origin_key"] == KEY.decode()
    assert letter["raw_size"] == len(big) and letter["raw_truncated"] is True
    assert letter["raw_sha256"] == hashlib.sha256(big).hexdigest()
    kept = base64.b64decode(letter["raw_base64"])
    assert kept == big[: settings.dead_letter_raw_bytes]


async def test_empty_and_null_values_are_dead_lettered_not_dropped(settings: HubSettings) -> None:
    empty, null = await _run(settings, [b"", None], expected_letters=2)
    assert empty["error_type"] == null["error_type"] == "empty_value"
    assert "empty" in empty["reason"] and "null" in null["reason"]
    assert (empty["origin_offset"], null["origin_offset"]) == (0, 1)
    assert empty["raw_size"] == 0 and empty["raw_sha256"] == hashlib.sha256(b"").hexdigest()


async def test_unknown_schema_versions_and_a_missing_event_type_are_dead_lettered_with_the_reason(
    settings: HubSettings,
) -> None:
    good = json.loads(_event("R-versioned").model_dump_json())
    version_2 = json.dumps({**good, "schema_version": 2}).encode()
    version_99 = json.dumps({**good, "schema_version": 99}).encode()
    untyped = json.dumps({k: v for k, v in good.items() if k != "event_type"}).encode()
    letters = await _run(settings, [version_2, version_99, untyped], expected_letters=3)
    assert [letter["error_type"] for letter in letters] == [
        "unsupported_schema_version", "unsupported_schema_version", "invalid_event"]
    assert "schema_version 2 is not supported" in letters[0]["reason"]
    assert "schema_version 99 is not supported" in letters[1]["reason"]
    assert "event_type: missing" in letters[2]["reason"]
    assert base64.b64decode(letters[0]["raw_base64"]) == version_2 and letters[0]["raw_truncated"] is False


async def test_a_dead_letter_the_topic_refuses_counts_as_a_failed_attempt_and_a_minimal_one_goes_instead(
    infrastructure: Infrastructure, namespace: str,
) -> None:
    settings = _settings(infrastructure, namespace)
    # The dead-letter topic takes 4 KB records: the poison's full dead letter (its 10 KB kept) cannot go.
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([
            NewTopic(settings.topic(ENQUIRY_ADDENDUM), 1, 1),
            NewTopic(settings.topic(DEAD_LETTER), 1, 1, topic_configs={"max.message.bytes": "4096"}),
        ])
    finally:
        await admin.close()
    poison = b"\x00" + uuid.uuid4().hex.encode() * 320  # not JSON, about 10 KB
    (letter,) = await _run(settings, [poison], expected_letters=1)
    assert letter["error_type"] == "invalid_event"
    assert letter["raw_base64"] == "" and letter["raw_size"] == len(poison)
    assert letter["raw_sha256"] == hashlib.sha256(poison).hexdigest()
    assert "bytes are left out" in letter["reason"]


async def _true(value: bool) -> bool:
    return value
