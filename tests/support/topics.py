"""Read what really went over a Kafka topic, and put raw bytes on one (for poison-message tests)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass
class Recorded:
    """One consumed record."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, bytes] = field(default_factory=dict)

    def json(self) -> Any:
        """The value parsed as JSON."""
        return json.loads(self.value)


class TopicRecorder:
    """Consumes topics from the beginning in the background and keeps every record."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.records: list[Recorded] = []
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=f"test-recorder-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async for message in self._consumer:
            self.records.append(
                Recorded(
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    key=message.key.decode() if message.key else None,
                    value=message.value or b"",
                    headers={k: v for k, v in (message.headers or [])},
                )
            )

    def on(self, topic: str) -> list[Recorded]:
        """Records seen so far on `topic`."""
        return [r for r in self.records if r.topic == topic]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TopicRecorder]:
        """Record while the block runs."""
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._consumer.stop()


async def produce_raw(bootstrap: str, topic: str, value: bytes, key: bytes | None = None) -> None:
    """Put exactly these bytes on `topic` (durably: acks=all)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
