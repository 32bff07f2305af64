"""The bare transport: plain aiokafka producing and consuming messages on the same broker as the hub.

The hub's figures are read as ratios to these: the same number of messages of the same size, on a topic
with the hub's partition count, a producer as durable as the hub's (acks=all, idempotent) and a consumer
group that commits as it goes. No store, no validation, no handler: what Kafka and its Python client cost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.measure import Progress, percentile


@dataclass
class TransportFigures:
    """What plain aiokafka did with `messages` messages of `size` bytes."""

    messages: int
    size: int
    seconds: float  # from the first send until the consumer has seen every message
    cpu_seconds: float  # of this process (producer and consumer), over the same span
    latencies: list[float]  # one message at a time: send until consumed, seconds

    @property
    def per_second(self) -> float:
        """Messages produced and consumed per second."""
        return self.messages / self.seconds

    @property
    def cpu_ms_per_message(self) -> float:
        """Client CPU (producer and consumer together) per message, milliseconds."""
        return self.cpu_seconds * 1000 / self.messages

    def latency_ms(self, fraction: float) -> float:
        """A percentile of the one-at-a-time send-to-consume latency, milliseconds."""
        return percentile(self.latencies, fraction) * 1000


async def _topic(bootstrap: str, partitions: int) -> str:
    name = f"bench-transport-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()
    return name


async def measure_transport(
    bootstrap: str, *, messages: int, size: int, partitions: int, probes: int, progress: Progress
) -> TransportFigures:
    """Saturate the broker with `messages` messages, then time `probes` single messages end to end."""
    topic = await _topic(bootstrap, partitions)
    value = b"x" * size
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"{topic}-group", auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    await producer.start()
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)  # join the group before the clock starts
        seen = 0
        done = asyncio.Event()

        async def consume() -> None:
            nonlocal seen
            while seen < messages:
                batches = await consumer.getmany(timeout_ms=200, max_records=2000)
                seen += sum(len(batch) for batch in batches.values())
                progress.update(seen)
            done.set()

        cpu_before = time.process_time()
        started = time.perf_counter()
        consuming = asyncio.create_task(consume())
        sends = [await producer.send(topic, value, key=f"key-{n % 1000}".encode()) for n in range(messages)]
        await asyncio.gather(*sends)
        await asyncio.wait_for(done.wait(), timeout=300)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_before
        await consuming

        latencies: list[float] = []
        for n in range(probes):
            sent = time.perf_counter()
            await producer.send_and_wait(topic, value, key=f"probe-{n}".encode())
            while True:
                batches = await consumer.getmany(timeout_ms=1000)
                if any(batches.values()):
                    break
            latencies.append(time.perf_counter() - sent)
        return TransportFigures(messages=messages, size=size, seconds=seconds, cpu_seconds=cpu_seconds,
                                latencies=latencies)
    finally:
        await consumer.stop()
        await producer.stop()
