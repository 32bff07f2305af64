"""Subscribing to a contract topic: screen, apply, commit — and dead-letter what cannot be applied.

The subscriber reads the raw bytes itself (mash_runtime.screening), so that a record with no value, one
near the broker's size limit, bytes that are not JSON, an unsupported schema version or an event with no
type never reaches a handler and never blocks its partition: it goes to the dead-letter topic with the
reason, its origin and its bytes (bounded: see `DeadLetters`). The offset is committed only after the
handler returns, i.e. after its effects are stored, together with the offsets of the other records finished
in the same moments (mash_runtime.commits); a failure seeks back and retries.

Every failure of an attempt counts towards `consumer_max_attempts`, whether the handler failed or the
dead letter could not be written, so nothing escapes the limit and no record is redelivered forever.
At the limit the record is dead-lettered; if even that fails, a last, minimal dead letter (origin,
size and digest, no bytes) is tried, and only if the broker refuses that too is the record left to be
redelivered — it is never dropped unrecorded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from mash_schemas.deadletter import DeadLetter, DeadLetterRecord
from mash_schemas.envelope import EventEnvelope
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from mash_runtime import metrics
from mash_runtime.batching import StoreBatch
from mash_runtime.commits import OffsetCommits
from mash_runtime.screening import Refusal, screen
from mash_runtime.settings import HubSettings

EventT = TypeVar("EventT", bound=EventEnvelope[Any])

log = logging.getLogger(__name__)

KEY_LIMIT = 256  # characters of a record's key kept on its dead letter
SETTLED_MEMORY = 10_000  # records of failed batches remembered as settled, per subscription
tracer = trace.get_tracer(__name__)


class MessageRejected(Exception):
    """Raised by a handler for a well-formed message the hub must not apply (e.g. wrong agency)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BatchIncomplete(Exception):
    """Some records of a batch failed and will be redelivered with it (the others are skipped then)."""


class DeadLetterFailed(Exception):
    """The dead-letter topic could not be written; the attempt counts as failed and is retried."""

    def __init__(self, refusal: Refusal, cause: Exception) -> None:
        super().__init__(f"could not dead-letter ({refusal.error_type}): {type(cause).__name__}: {cause}")
        self.refusal = refusal


@dataclass(frozen=True)
class MessageOrigin:
    """Where a consumed message came from: enough to find it again."""

    topic: str
    partition: int
    offset: int
    key: str | None


Handler = Callable[[EventT, MessageOrigin], Awaitable[None]]


async def _undecoded(message: StreamMessage[Any]) -> Any:
    """faststream's decoder for our subscribers: the body as it came, not parsed.

    faststream's default decoder parses every JSON record (by its content-type) before calling the
    subscriber, which reads the raw record itself (`screen`): a parse a record whose result nothing used, and
    one that raises, before any screening, on a record labelled JSON that is not.
    """
    return message.body


class DeadLetters:
    """Publishes rejected messages to the dead-letter topic, never larger than that topic accepts.

    The raw value is kept whole up to `dead_letter_raw_bytes`; a larger one keeps that many leading
    bytes, with the whole value's size and SHA-256, so a dead letter stays far below the broker's
    per-record limit (about 1 MB by default) whatever arrived.
    """

    def __init__(self, broker: KafkaBroker, settings: HubSettings) -> None:
        self._broker = broker
        self._settings = settings

    async def send(
        self, origin: MessageOrigin, raw: bytes | None, *, consumer: str, reason: str, error_type: str,
        keep_bytes: bool = True,
    ) -> None:
        """Set the message aside with the reason; raises if the dead-letter topic cannot be written."""
        value = raw or b""
        kept = value[: self._settings.dead_letter_raw_bytes] if keep_bytes else b""
        record = DeadLetterRecord(
            origin_topic=origin.topic,
            origin_partition=origin.partition,
            origin_offset=origin.offset,
            origin_key=origin.key[:KEY_LIMIT] if origin.key is not None else None,
            consumer=consumer,
            reason=reason[:4000],
            error_type=error_type,
            raw_base64=base64.b64encode(kept).decode("ascii"),
            raw_size=len(value),
            raw_sha256=hashlib.sha256(value).hexdigest(),
            raw_truncated=len(kept) < len(value),
            dead_lettered_at=datetime.now(UTC),
        )
        key = (origin.key or "unknown")[:KEY_LIMIT]
        event = DeadLetter.build(record, correlation_id=key[:64], producer=self._settings.service_name)
        await self._broker.publish(
            event.model_dump_json(),
            topic=self._settings.topic(DeadLetter.TOPIC),
            key=key.encode(),
            headers={"content-type": "application/json"},
        )
        metrics.dead_lettered(self._settings.service_name, origin.topic, error_type)
        log.warning(
            "message dead-lettered",
            extra={"fields": {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset,
                              "error_type": error_type, "reason": reason[:300], "size": len(value)}},
        )


@dataclass(frozen=True)
class Consumers:
    """A subscription's two ways to consume: one record (`one`) or a batch (`batch`), as faststream calls them."""

    one: Callable[[KafkaMessage], Awaitable[None]]
    batch: Callable[[KafkaMessage], Awaitable[None]]


async def pause_before_redelivery(attempt: int) -> None:
    """Back off before a record (or batch) is redelivered, so a store or broker blip is ridden out, not hammered."""
    await asyncio.sleep(min(0.2 * 2 ** attempt, 10.0))


def consumers(
    settings: HubSettings,
    *,
    event_model: type[EventT],
    group_id: str,
    handler: Handler[EventT],
    dead_letters: DeadLetters,
    pause: Callable[[int], Awaitable[None]] = pause_before_redelivery,
    commits: OffsetCommits | None = None,
) -> Consumers:
    """What `subscribe` registers, built apart so a test can hand it records as the broker would."""
    commits = commits or OffsetCommits(settings.consumer_commit_linger_ms / 1000)
    consumer_name = f"{settings.service_name}/{group_id}"
    failures: dict[tuple[str, int, int], int] = {}

    async def dead_letter(origin: MessageOrigin, raw: bytes | None, refusal: Refusal) -> None:
        try:
            await dead_letters.send(origin, raw, consumer=consumer_name, reason=refusal.reason,
                                    error_type=refusal.error_type)
        except Exception as exc:
            raise DeadLetterFailed(refusal, exc) from exc

    async def attempt(origin: MessageOrigin, raw: bytes | None) -> None:
        screened = screen(raw, event_model, settings.consumer_max_value_bytes)
        if isinstance(screened, Refusal):
            await dead_letter(origin, raw, screened)
            return
        try:
            await handler(screened, origin)
        except MessageRejected as exc:
            await dead_letter(origin, raw, Refusal("rejected", exc.reason))

    async def give_up(origin: MessageOrigin, raw: bytes | None, exc: Exception) -> None:
        """The last attempt failed: dead-letter the record; without its bytes if that is all that goes."""
        if isinstance(exc, DeadLetterFailed):
            refusal = exc.refusal
        else:
            refusal = Refusal("handler_failed",
                              f"handler failed {settings.consumer_max_attempts} times: {type(exc).__name__}: {exc}")
        try:
            await dead_letters.send(origin, raw, consumer=consumer_name, reason=refusal.reason,
                                    error_type=refusal.error_type)
        except Exception as again:
            log.exception("dead letter refused; trying one without the record's bytes")
            await dead_letters.send(
                origin, raw, consumer=consumer_name, error_type=refusal.error_type, keep_bytes=False,
                reason=f"{refusal.reason} [the record's bytes are left out: the full dead letter failed with "
                       f"{type(again).__name__}: {again}]",
            )

    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        assert isinstance(record, ConsumerRecord)  # not a batch subscriber
        raw: bytes | None = record.value
        key = record.key.decode("utf-8", "replace") if isinstance(record.key, bytes) else None
        origin = MessageOrigin(topic=record.topic, partition=record.partition, offset=record.offset, key=key)
        where = (origin.topic, origin.partition, origin.offset)
        started = time.perf_counter()
        try:
            try:
                await attempt(origin, raw)
            except Exception as exc:
                failures[where] = failures.get(where, 0) + 1
                if failures[where] < settings.consumer_max_attempts:
                    log.warning("consuming a message failed; it will be redelivered",
                                extra={"fields": {"topic": origin.topic, "partition": origin.partition,
                                                  "offset": origin.offset, "attempt": failures[where],
                                                  "error": f"{type(exc).__name__}: {exc}"[:300]}})
                    await pause(failures[where])
                    raise
                failures.pop(where, None)
                log.exception("message failed repeatedly; dead-lettering", extra={"fields": {"topic": origin.topic}})
                await give_up(origin, raw, exc)  # raises (and is redelivered) only if the broker refuses both
        except Exception:
            await message.nack()  # the consumer seeks back to this record: it is delivered again
            raise
        failures.pop(where, None)
        # Its effects are stored: its offset may be committed, with the others finished meanwhile.
        if isinstance(message.consumer, AIOKafkaConsumer):
            commits.finished(message.consumer, TopicPartition(record.topic, record.partition), record.offset)
        else:
            await message.ack()  # faststream's test broker: nothing to commit to
        metrics.consumed(settings.service_name, group_id, origin.topic, time.perf_counter() - started)
        metrics.consumer_lag(settings.service_name, group_id, message.consumer, origin.topic, origin.partition,
                             origin.offset)

    # Records of a batch that a failed attempt of it settled (applied or set aside): its redelivery skips them.
    settled: OrderedDict[tuple[str, int, int], None] = OrderedDict()

    async def run_key(records: list[tuple[MessageOrigin, bytes | None, dict[str, str]]]) -> int:
        """One key's records of a batch, in offset order; returns the failures of its first unsettled one (0: none)."""
        for origin, raw, headers in records:
            where = (origin.topic, origin.partition, origin.offset)
            if where in settled:
                continue
            started = time.perf_counter()
            try:
                # The record's own trace, as the one-record path has it: a referral's trace stays whole.
                with tracer.start_as_current_span(f"{origin.topic} process", context=propagate.extract(headers),
                                                  kind=SpanKind.CONSUMER):
                    await attempt(origin, raw)
            except Exception as exc:
                failures[where] = failures.get(where, 0) + 1
                if failures[where] < settings.consumer_max_attempts:
                    log.warning("consuming a message of a batch failed; the batch will be redelivered",
                                extra={"fields": {"topic": origin.topic, "partition": origin.partition,
                                                  "offset": origin.offset, "attempt": failures[where],
                                                  "error": f"{type(exc).__name__}: {exc}"[:300]}})
                    return failures[where]  # this key's later records wait for the redelivery, in order
                failures.pop(where, None)
                log.exception("message failed repeatedly; dead-lettering", extra={"fields": {"topic": origin.topic}})
                try:
                    await give_up(origin, raw, exc)
                except Exception:
                    log.exception("dead letter refused; the batch will be redelivered")
                    return settings.consumer_max_attempts
            failures.pop(where, None)
            _remember(settled, where)
            metrics.consumed(settings.service_name, group_id, origin.topic, time.perf_counter() - started)
        return 0

    async def consume_batch(message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple | list)  # a batch subscriber (faststream's test broker hands a list)
        by_key: dict[tuple[str, int, str | None], list[tuple[MessageOrigin, bytes | None, dict[str, str]]]] = {}
        last: dict[tuple[str, int], int] = {}
        for record in records:  # one partition's records in offset order, partition after partition
            key = record.key.decode("utf-8", "replace") if isinstance(record.key, bytes) else None
            origin = MessageOrigin(topic=record.topic, partition=record.partition, offset=record.offset, key=key)
            headers = {name: value.decode("latin-1") for name, value in record.headers or ()}
            by_key.setdefault((record.topic, record.partition, key), []).append((origin, record.value, headers))
            last[(record.topic, record.partition)] = record.offset
        metrics.batch_taken(settings.service_name, group_id, len(records))
        outcomes = await StoreBatch().run([partial(run_key, each) for each in by_key.values()])
        worst = max((settings.consumer_max_attempts if isinstance(o, BaseException) else o for o in outcomes),
                    default=0)
        if worst:
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    log.error("a batch's key failed unexpectedly", exc_info=outcome)
            # Redelivered (a seek back to each partition's first record of the batch) after a pause; what this
            # attempt settled is skipped then.
            await pause(worst)
            raise BatchIncomplete(f"{sum(1 for o in outcomes if o)} of {len(outcomes)} keys of the batch failed")
        for record in records:
            settled.pop((record.topic, record.partition, record.offset), None)
        for (topic_name, partition), offset in last.items():
            metrics.consumer_lag(settings.service_name, group_id, message.consumer, topic_name, partition, offset)

    return Consumers(one=consume, batch=consume_batch)


def subscribe(
    broker: KafkaBroker,
    settings: HubSettings,
    *,
    topic: str,
    event_model: type[EventT],
    group_id: str,
    handler: Handler[EventT],
    dead_letters: DeadLetters,
    workers: int = 1,
    until_it_exists: bool = False,
    batch: int | None = None,
    commits: OffsetCommits | None = None,
) -> None:
    """Declare a durable, dead-lettering consumer of `topic` in consumer group `group_id`.

    `until_it_exists`: subscribe to `topic` by an exact pattern, so a topic another party creates (another
    hub's, in a region) may be missing or not yet readable when this service starts: it is picked up when
    the client's metadata next shows it, instead of failing the start.

    `workers` > 1 runs that many consumers of the group in this process (faststream's concurrency between
    partitions): each is assigned its own partitions and handles them one record at a time, so records of
    one referral (one key, one partition) are still applied in order and an offset is still committed only
    after its handler returned, while records on other partitions are applied meanwhile. More workers than
    the topic has partitions would sit idle.

    `batch` (default: `consumer_batch` from the settings, 1 unless set) > 1 takes up to that many records at once
    (faststream's batch subscriber, aiokafka's `getmany`; `workers` is then not used). Each record is screened and
    handled as above, by the same handler; the records of one key (one referral) run in offset order as one task and
    the keys side by side, inside a `StoreBatch` that sends the tasks' aggregate reads as one query and their writes
    as one bulk write (mash_runtime.batching). Poison is set aside alone and the rest goes on. Offsets are committed
    only after the whole batch returned. A record whose handler fails stops its key's task (its later records must
    wait for it); the batch is then redelivered after a pause, and what this attempt settled (applied or set aside)
    is skipped, so nothing is dead-lettered twice and each record counts its own attempts towards
    `consumer_max_attempts`, as one by one.
    """
    consuming = consumers(settings, event_model=event_model, group_id=group_id, handler=handler,
                          dead_letters=dead_letters, commits=commits)
    where: dict[str, Any] = {"pattern": f"^{re.escape(topic)}$"} if until_it_exists else {}
    batch = batch or settings.consumer_batch
    if batch > 1:
        # Offsets are committed after the whole batch returns (every record applied or set aside); a failure
        # seeks each partition back to its first record of the batch (faststream's nack of a batch).
        broker.subscriber(
            *(() if until_it_exists else (topic,)),
            **where,
            group_id=group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            max_poll_interval_ms=300_000,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            batch=True,
            max_records=batch,
            batch_timeout_ms=settings.consumer_batch_linger_ms,
            decoder=_undecoded,
        )(consuming.batch)
        return
    # One record at a time: the subscriber acknowledges itself (a failure seeks back; a record whose effects are
    # stored has its offset committed with the others finished meanwhile, mash_runtime.commits).
    broker.subscriber(
        *(() if until_it_exists else (topic,)),
        **where,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        max_poll_interval_ms=300_000,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_workers=workers,
        decoder=_undecoded,
    )(consuming.one)


def _remember(settled: OrderedDict[tuple[str, int, int], None], where: tuple[str, int, int]) -> None:
    settled[where] = None
    if len(settled) > SETTLED_MEMORY:
        settled.popitem(last=False)
