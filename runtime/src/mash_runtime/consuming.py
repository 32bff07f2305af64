"""Subscribing to a contract topic: validate, apply, commit — and dead-letter what cannot be applied.

The subscriber parses the raw bytes itself, so that a message that is not valid JSON or not a valid
event never reaches a handler and never blocks its partition: it goes to the dead-letter topic with
the reason, its origin and its bytes. The offset is committed only after the handler returns, i.e.
after its effects are stored (ack policy NACK_ON_ERROR: a handler failure seeks back and retries).
A handler that keeps failing on one message is dead-lettered after `consumer_max_attempts` so one bad
message cannot stall the referrals queued behind it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from mash_schemas.deadletter import DeadLetter, DeadLetterRecord
from mash_schemas.envelope import EventEnvelope
from pydantic import ValidationError

from mash_runtime.settings import HubSettings

EventT = TypeVar("EventT", bound=EventEnvelope[Any])

log = logging.getLogger(__name__)


class MessageRejected(Exception):
    """Raised by a handler for a well-formed message the hub must not apply (e.g. wrong agency)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MessageOrigin:
    """Where a consumed message came from: enough to find it again."""

    topic: str
    partition: int
    offset: int
    key: str | None


Handler = Callable[[EventT, MessageOrigin], Awaitable[None]]


class DeadLetters:
    """Publishes rejected messages to the dead-letter topic."""

    def __init__(self, broker: KafkaBroker, settings: HubSettings) -> None:
        self._broker = broker
        self._settings = settings

    async def send(self, origin: MessageOrigin, raw: bytes, *, consumer: str, reason: str, error_type: str) -> None:
        """Set the message aside with the reason; raises if the dead-letter topic cannot be written."""
        record = DeadLetterRecord(
            origin_topic=origin.topic,
            origin_partition=origin.partition,
            origin_offset=origin.offset,
            origin_key=origin.key,
            consumer=consumer,
            reason=reason[:4000],
            error_type=error_type,
            raw_base64=base64.b64encode(raw).decode("ascii"),
            dead_lettered_at=datetime.now(UTC),
        )
        event = DeadLetter.build(record, correlation_id=origin.key or "unknown", producer=self._settings.service_name)
        await self._broker.publish(
            event.model_dump_json(),
            topic=self._settings.topic(DeadLetter.TOPIC),
            key=(origin.key or "unknown").encode(),
            headers={"content-type": "application/json"},
        )
        log.warning(
            "message dead-lettered",
            extra={"fields": {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset,
                              "error_type": error_type, "reason": reason[:300]}},
        )


def _validation_reason(exc: ValidationError) -> str:
    """Field paths and messages only: never the input values, which may hold case detail."""
    problems = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()]
    return "invalid event: " + "; ".join(problems[:20])


def subscribe(
    broker: KafkaBroker,
    settings: HubSettings,
    *,
    topic: str,
    event_model: type[EventT],
    group_id: str,
    handler: Handler[EventT],
    dead_letters: DeadLetters,
) -> None:
    """Declare a durable, dead-lettering consumer of `topic` in consumer group `group_id`."""
    consumer_name = f"{settings.service_name}/{group_id}"
    failures: dict[tuple[str, int, int], int] = {}

    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        assert isinstance(record, ConsumerRecord)  # not a batch subscriber
        raw: bytes = message.body
        key = record.key.decode("utf-8", "replace") if isinstance(record.key, bytes) else None
        origin = MessageOrigin(topic=record.topic, partition=record.partition, offset=record.offset, key=key)
        try:
            event = event_model.model_validate_json(raw)
        except ValidationError as exc:
            await dead_letters.send(
                origin, raw, consumer=consumer_name, reason=_validation_reason(exc), error_type="invalid_event"
            )
            return
        try:
            await handler(event, origin)
        except MessageRejected as exc:
            await dead_letters.send(origin, raw, consumer=consumer_name, reason=exc.reason, error_type="rejected")
            return
        except Exception as exc:
            where = (origin.topic, origin.partition, origin.offset)
            failures[where] = failures.get(where, 0) + 1
            if failures[where] >= settings.consumer_max_attempts:
                failures.pop(where, None)
                log.exception("handler failed repeatedly; dead-lettering", extra={"fields": {"topic": origin.topic}})
                await dead_letters.send(
                    origin, raw, consumer=consumer_name,
                    reason=f"handler failed {settings.consumer_max_attempts} times: {type(exc).__name__}: {exc}",
                    error_type="handler_failed",
                )
                return
            # Back off before the redelivery so a store or broker blip is ridden out, not hammered.
            await asyncio.sleep(min(0.2 * 2 ** failures[where], 10.0))
            raise
        failures.pop((origin.topic, origin.partition, origin.offset), None)

    broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_poll_interval_ms=300_000,
    )(consume)
