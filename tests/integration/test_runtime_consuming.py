"""Consumers on the real broker: dead letters, redelivery after a failure, offsets committed after effects (and
together: fewer commits than records, every finished record committed by a graceful stop, and what a consumer
that died left uncommitted delivered again)."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from faststream.kafka import KafkaBroker
from mash_runtime.broker import build_broker
from mash_runtime.commits import OffsetCommits
from mash_runtime.consuming import DeadLetters, MessageOrigin, MessageRejected, subscribe
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.enquiry import AgencyFindings, EnquiryAddendum, EnquiryAddendumRecorded
from mash_schemas.topics import DEAD_LETTER, ENQUIRY_ADDENDUM

from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder, produce_raw
from tests.support.waiting import eventually


def _event(referral_id: str, agency: str = "health") -> EnquiryAddendumRecorded:
    findings = AgencyFindings(agency=agency, outcome="nothing_known", responded_at=datetime.now(UTC))
    payload = EnquiryAddendum(enquiry_id="E1", referral_id=referral_id, findings=findings)
    return EnquiryAddendumRecorded.build(payload, correlation_id=referral_id, producer="test")


@pytest.fixture
async def settings(infrastructure: Infrastructure, namespace: str) -> HubSettings:
    hub = HubSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap, topic_namespace=namespace, service_name="consumer-test",
        consumer_max_attempts=3,
    )
    # One partition: the test is about order within a partition.
    await ensure_topics(hub, [hub.topic(ENQUIRY_ADDENDUM), hub.topic(DEAD_LETTER)],
                        {hub.topic(ENQUIRY_ADDENDUM): 1})
    return hub


async def _send(settings: HubSettings, event: EnquiryAddendumRecorded) -> None:
    await produce_raw(settings.kafka_bootstrap, settings.topic(ENQUIRY_ADDENDUM),
                      event.model_dump_json().encode(), key=event.correlation_id.encode())


class Consumer:
    """A subscriber with a scripted handler, recording what it applied."""

    def __init__(self, settings: HubSettings, fail_times: dict[str, int] | None = None,
                 reject: set[str] | None = None, group: str = "group-under-test",
                 commits: OffsetCommits | None = None) -> None:
        self.applied: list[str] = []
        self.calls: dict[str, int] = {}
        self._fail_times = fail_times or {}
        self._reject = reject or set()
        self.broker: KafkaBroker = build_broker(settings)
        self.commits = commits or OffsetCommits(settings.consumer_commit_linger_ms / 1000)
        subscribe(self.broker, settings, topic=settings.topic(ENQUIRY_ADDENDUM),
                  event_model=EnquiryAddendumRecorded, group_id=group, handler=self.handle,
                  dead_letters=DeadLetters(self.broker, settings), commits=self.commits)

    async def handle(self, event: EnquiryAddendumRecorded, origin: MessageOrigin) -> None:
        referral = event.correlation_id
        self.calls[referral] = self.calls.get(referral, 0) + 1
        if referral in self._reject:
            raise MessageRejected(f"{referral} names an enquiry this hub does not hold")
        if self.calls[referral] <= self._fail_times.get(referral, 0):
            raise ConnectionError("store unavailable")
        self.applied.append(referral)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Consumer]:
        await self.broker.start()
        try:
            yield self
        finally:
            await self.commits.flush()  # as a service's graceful stop does (mash_runtime.service)
            await self.broker.stop()


async def test_poison_and_rejected_messages_are_dead_lettered_and_the_partition_keeps_flowing(
    settings: HubSettings,
) -> None:
    topic = settings.topic(ENQUIRY_ADDENDUM)
    await produce_raw(settings.kafka_bootstrap, topic, b"\x00not json at all", key=b"R-poison")
    await produce_raw(settings.kafka_bootstrap, topic, json.dumps({"event_id": "nope"}).encode(), key=b"R-invalid")
    await _send(settings, _event("R-rejected"))
    await _send(settings, _event("R-good"))
    consumer = Consumer(settings, reject={"R-rejected"})
    recorder = TopicRecorder(settings.kafka_bootstrap, [settings.topic(DEAD_LETTER)])
    async with recorder.running(), consumer.running():
        await eventually(lambda: _true(consumer.applied == ["R-good"]), what="the good event applied")
        await eventually(lambda: _true(len(recorder.records) == 3), what="three dead letters")
    letters = {r.key: r.json()["payload"] for r in recorder.records}
    assert letters["R-poison"]["error_type"] == "invalid_event"
    assert base64.b64decode(letters["R-poison"]["raw_base64"]) == b"\x00not json at all"
    assert letters["R-poison"]["origin_topic"] == topic
    assert letters["R-poison"]["origin_offset"] == 0
    assert letters["R-invalid"]["error_type"] == "invalid_event"
    assert "event_type" in letters["R-invalid"]["reason"] or "payload" in letters["R-invalid"]["reason"]
    assert letters["R-rejected"]["error_type"] == "rejected"
    assert "does not hold" in letters["R-rejected"]["reason"]
    assert letters["R-rejected"]["consumer"] == "consumer-test/group-under-test"


async def test_a_failed_handler_gets_the_message_again_and_applies_it_once(settings: HubSettings) -> None:
    await _send(settings, _event("R-flaky"))
    await _send(settings, _event("R-after"))
    consumer = Consumer(settings, fail_times={"R-flaky": 2})
    async with consumer.running():
        if settings.consumer_batch == 1:
            await eventually(lambda: _true(consumer.applied == ["R-flaky", "R-after"]), what="both applied in order")
        else:
            # In batches only one referral's records keep their order: R-after does not wait for R-flaky's retries.
            await eventually(lambda: _true(sorted(consumer.applied) == ["R-after", "R-flaky"]), what="both applied")
    assert consumer.calls["R-flaky"] == 3


async def test_a_handler_failing_every_time_is_dead_lettered_after_the_limit(settings: HubSettings) -> None:
    await _send(settings, _event("R-broken"))
    await _send(settings, _event("R-next"))
    consumer = Consumer(settings, fail_times={"R-broken": 99})
    recorder = TopicRecorder(settings.kafka_bootstrap, [settings.topic(DEAD_LETTER)])
    async with recorder.running(), consumer.running():
        await eventually(lambda: _true(consumer.applied == ["R-next"]), timeout=60, what="the next applied")
        await eventually(lambda: _true(len(recorder.records) == 1), what="one dead letter")
    assert consumer.calls["R-broken"] == settings.consumer_max_attempts
    assert recorder.records[0].json()["payload"]["error_type"] == "handler_failed"


async def test_offsets_are_committed_after_handling_so_a_restart_does_not_replay(settings: HubSettings) -> None:
    for i in range(3):
        await _send(settings, _event(f"R-first-{i}"))
    first = Consumer(settings)
    async with first.running():
        await eventually(lambda: _true(len(first.applied) == 3), what="first three applied")
    await _send(settings, _event("R-second"))
    second = Consumer(settings)
    async with second.running():
        await eventually(lambda: _true(second.applied == ["R-second"]), what="only the new one")


async def _true(value: bool) -> bool:
    return value


async def test_offsets_are_committed_together_and_a_graceful_stop_commits_every_finished_record(
    settings: HubSettings,
) -> None:
    referrals = [f"R-{i}" for i in range(30)]
    for referral in referrals:
        await _send(settings, _event(referral))
    first = Consumer(settings, commits=OffsetCommits(linger=1.0))  # a commit a second at most, however slow
    async with first.running():
        await eventually(lambda: _true(len(first.applied) == 30), what="thirty applied")
    assert first.applied == referrals
    assert 1 <= first.commits.commits < 30, "offsets gathered into fewer commits than records"

    await _send(settings, _event("R-after"))
    second = Consumer(settings)
    async with second.running():
        await eventually(lambda: _true(second.applied == ["R-after"]), what="only the new one, nothing replayed")


async def test_a_consumer_that_dies_before_its_commit_has_its_records_delivered_again(settings: HubSettings) -> None:
    for i in range(3):
        await _send(settings, _event(f"R-{i}"))
    dying = Consumer(settings, commits=OffsetCommits(linger=3600))  # no commit before it dies, however slow
    await dying.broker.start()
    await eventually(lambda: _true(len(dying.applied) == 3), what="three applied")
    await dying.broker.stop()  # no graceful flush: as if the process had been killed before its commit
    assert dying.commits.commits == 0

    again = Consumer(settings)
    async with again.running():
        await eventually(lambda: _true(again.applied == ["R-0", "R-1", "R-2"]),
                         what="the uncommitted records delivered again, in order")


async def test_a_runtime_started_again_in_the_same_process_commits_again(settings: HubSettings) -> None:
    applied: list[str] = []

    async def handle(event: EnquiryAddendumRecorded, origin: MessageOrigin) -> None:
        applied.append(event.correlation_id)

    runtime = ServiceRuntime(settings, database=as_database(MemoryDatabase("consumer-test")))
    runtime.subscribe(ENQUIRY_ADDENDUM, EnquiryAddendumRecorded, "restarted", handle)
    for run, referral in enumerate(["R-first-run", "R-second-run"]):
        await _send(settings, _event(referral))
        async with runtime.running(periodic_jobs=False):
            await eventually(lambda n=run: _true(len(applied) == n + 1), what=f"run {run + 1}'s record applied")
    assert applied == ["R-first-run", "R-second-run"]

    await _send(settings, _event("R-after"))
    after = Consumer(settings, group=settings.group("restarted"))
    async with after.running():
        await eventually(lambda: _true(after.applied == ["R-after"]), what="only the new one: both runs committed")
