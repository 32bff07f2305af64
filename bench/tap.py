"""A listener on every topic of the benchmark's hub: when each event went by, and how big it was.

The benchmark's automated desk waits on it instead of polling the services (a case file is looked at only
once its referral is on Kafka), and its counts per second make the throughput-over-time figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from mash_schemas.topics import ENQUIRY_COMPLETED, NOTIFICATION_SENT

from demo.waiting import eventually


@dataclass
class Seen:
    """One event that went by."""

    at: float  # perf_counter when the tap saw it
    topic: str  # without the namespace
    key: str
    size: int
    payload: dict[str, Any] = field(default_factory=dict)  # kept only for the topics the desk waits on


_KEPT = {ENQUIRY_COMPLETED, NOTIFICATION_SENT}


class Tap:
    """Consumes `<namespace>.*` from the moment it starts."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self.namespace = namespace
        self.seen: list[Seen] = []
        self._waiters: dict[tuple[str, str], list[asyncio.Future[Seen]]] = defaultdict(list)
        self._by_key: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=f"bench-tap-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
            metadata_max_age_ms=1000, enable_auto_commit=False,
        )

    async def _run(self) -> None:
        prefix = len(self.namespace) + 1
        async for record in self._consumer:
            topic = record.topic[prefix:]
            key = record.key.decode() if record.key else ""
            value: bytes = record.value or b""
            payload = json.loads(value).get("payload", {}) if topic in _KEPT else {}
            seen = Seen(at=time.perf_counter(), topic=topic, key=key, size=len(value), payload=payload)
            self.seen.append(seen)
            self._by_key[(topic, key)].append(seen)
            for waiter in self._waiters.pop((topic, key), []):
                if not waiter.done():
                    waiter.set_result(seen)

    async def first(self, topic: str, key: str, timeout: float) -> Seen:
        """The first event on `topic` keyed `key` (waiting for it if it has not gone by yet)."""
        already = self._by_key.get((topic, key))
        if already:
            return already[0]
        waiter: asyncio.Future[Seen] = asyncio.get_running_loop().create_future()
        self._waiters[(topic, key)].append(waiter)
        return await asyncio.wait_for(waiter, timeout=timeout)

    def events(self, topic: str, key: str) -> list[Seen]:
        """Every event seen so far on `topic` keyed `key`."""
        return list(self._by_key.get((topic, key), []))

    def count(self, since: float = float("-inf"), until: float = float("inf")) -> int:
        """Events seen in a span of perf_counter time."""
        return sum(1 for s in self.seen if since <= s.at <= until)

    def mean_size(self, since: float = float("-inf"), until: float = float("inf")) -> float:
        """Mean value size of the events seen in a span, bytes."""
        sizes = [s.size for s in self.seen if since <= s.at <= until]
        return sum(sizes) / len(sizes) if sizes else 0.0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Tap]:
        """Listen while the block runs, from the beginning of the hub's topics."""
        self._consumer.subscribe(pattern=f"^{re.escape(self.namespace)}\\..*")
        await self._consumer.start()
        task = asyncio.create_task(self._run())

        async def assigned() -> bool:
            return bool(self._consumer.assignment())

        try:
            await eventually(assigned, timeout=60, interval=0.1, what="the tap assigned the hub's topics")
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._consumer.stop()
