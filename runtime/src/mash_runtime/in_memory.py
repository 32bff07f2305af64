"""Running a service in memory: its real bootstrap, with no server behind it.

A service's `bootstrap(settings, database=..., broker=..., clock=..., topic_admin=...)` is given a
MemoryDatabase, a fresh broker, a FixedClock and `no_topics`; `running_in_memory(runtime)` then wraps
the broker in faststream's TestKafkaBroker (publishes go straight to the in-process subscribers) and
runs the service's whole lifespan: indexes, start-up steps, the outbox relay, the consumers. What a
use case does in memory is therefore what it does on the real stack, minus the network: the same
handlers, the same dead-lettering, the same outbox.

    database = MemoryDatabase()
    service = bootstrap(settings, database=as_database(database), clock=clock, topic_admin=no_topics)
    async with running_in_memory(service.runtime) as broker:
        await broker.publish(event.model_dump_json(), topic, key=b"MASH-1")
        await service.runtime.relay.publish_pending()   # what the relay would send next

Periodic jobs (clock watchers, sweeps) do not run on their own in memory: a test moves the FixedClock
and calls the job, so that nothing waits on real time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from faststream.kafka import KafkaBroker, TestKafkaBroker

from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings


async def no_topics(settings: HubSettings, topics: set[str], partitions: dict[str, int]) -> None:
    """The topic admin for in-memory runs: TestKafkaBroker needs no topic created."""


@contextlib.asynccontextmanager
async def running_in_memory(runtime: ServiceRuntime) -> AsyncIterator[KafkaBroker]:
    """Run `runtime` (built with in-memory parts) with its broker in memory; yields the broker to publish on."""
    async with TestKafkaBroker(runtime.broker, with_real=False) as broker, runtime.running(periodic_jobs=False):
        yield broker
