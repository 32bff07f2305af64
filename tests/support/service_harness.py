"""One service, through its real `bootstrap`, in memory or on the real stack: the same scenario either way.

A scenario class holds the tests; two subclasses choose where they run, following faststream's own tests
(one test class, a testing mix-in per transport):

    class DeskScenarios:                         # the tests: they take the `hub` fixture
        async def test_a_referral_opens_a_case(self, hub: RunningService[DecisionService]) -> None: ...

    class TestDeskInMemory(InMemory, DeskScenarios):            # unit: MemoryDatabase + TestKafkaBroker
        bootstrap = staticmethod(mash_decision.bootstrap.bootstrap)
        settings_class = DecisionSettings

    @pytest.mark.integration
    class TestDeskOnTheRealStack(OnTheRealStack, DeskScenarios):  # the native Kafka and store
        bootstrap = staticmethod(mash_decision.bootstrap.bootstrap)
        settings_class = DecisionSettings

Both give the test a `RunningService`: the service object its bootstrap returned, a FixedClock every use
case reads, `publish` onto a consumed topic, `published(topic)` for what the service put on a topic,
`eventually(probe)` to wait for a condition (in memory it also lets the outbox relay run), and `http`, an
httpx client on the service's own app. Nothing waits on time: in memory a publish returns once the
handler has run; on the real stack every wait is a condition with a timeout.

A class may override `settings_overrides` (a dict) and `outputs` (base topics whose records the test
reads through `published`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from mash_runtime.clock import FixedClock
from mash_runtime.in_memory import no_topics, running_in_memory
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import DEAD_LETTER
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

# A Monday morning in term time, inside working hours: what the fixed clock starts at.
MONDAY_MORNING = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T = TypeVar("T")


class Service(Protocol):
    """What a service's bootstrap returns: at least its runtime and its app."""

    @property
    def runtime(self) -> ServiceRuntime: ...

    @property
    def app(self) -> FastAPI: ...


ServiceT = TypeVar("ServiceT", bound=Service)


@dataclass
class RunningService(Generic[ServiceT]):
    """A started service and what a test does with it."""

    service: ServiceT
    clock: FixedClock
    broker: KafkaBroker
    http: httpx.AsyncClient
    in_memory: bool
    database: AsyncDatabase[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def settings(self) -> HubSettings:
        """The service's settings (namespace included)."""
        return self.service.runtime.settings

    def topic(self, base: str) -> str:
        """The deployed name of a base topic."""
        return self.settings.topic(base)

    async def publish(self, event: EventEnvelope[Any], base_topic: str, key: str | None = None) -> None:
        """Put `event` on `base_topic` as its producer would (keyed by its referral)."""
        await self.broker.publish(event.model_dump_json(), self.topic(base_topic),
                                  key=(key or event.correlation_id).encode(),
                                  headers={"content-type": "application/json", "event-type": event.event_type})

    async def publish_raw(self, value: bytes, base_topic: str, key: bytes = b"poison") -> None:
        """Put raw bytes on `base_topic` (poison-message scenarios)."""
        await self.broker.publish(value, self.topic(base_topic), key=key)

    async def flush(self) -> None:
        """Let the outbox relay publish what is pending (in memory it runs in this task; on the stack it runs)."""
        if self.in_memory:
            await self.service.runtime.relay.publish_pending()

    def published(self, base_topic: str) -> list[dict[str, Any]]:
        """Every record the service published on `base_topic` so far (parsed JSON), in order."""
        return list(self.records.get(self.topic(base_topic), []))

    async def dead_letter(self, base_topic: str, reason: str) -> dict[str, Any]:
        """Wait for the dead letter of a record from `base_topic` whose reason contains `reason` (its payload).

        The test names DEAD_LETTER among its `outputs` so that the harness records it.
        """
        def probe() -> dict[str, Any] | None:
            return next((letter["payload"] for letter in self.published(DEAD_LETTER)
                         if letter["payload"]["origin_topic"] == self.topic(base_topic)
                         and reason in letter["payload"]["reason"]), None)

        return await self.eventually(probe)

    async def eventually(self, probe: Callable[[], Awaitable[T | None]] | Callable[[], T | None],
                         timeout: float = 60.0) -> T:
        """Wait until `probe` returns something truthy; the relay is flushed before each look."""

        async def look() -> T | None:
            await self.flush()
            found = probe()
            if isinstance(found, Awaitable):
                return cast("T | None", await found)
            return found

        return await eventually(look, timeout=timeout)


class _Harness(Generic[ServiceT]):
    """What both mix-ins share: the class names the service's bootstrap and settings."""

    bootstrap: ClassVar[Callable[..., Any]]
    settings_class: ClassVar[type[HubSettings]]
    settings_overrides: ClassVar[dict[str, Any]] = {}
    outputs: ClassVar[tuple[str, ...]] = ()

    @pytest.fixture
    def clock(self) -> FixedClock:
        """The fixed clock every use case of the service reads."""
        return FixedClock(MONDAY_MORNING)

    def _watch(self, broker: KafkaBroker, settings: HubSettings, records: dict[str, list[dict[str, Any]]],
               group: str | None) -> None:
        for base in self.outputs:
            topic = settings.topic(base)
            records[topic] = []
            # A group per recorded topic: consumers of different topics sharing one group would rebalance
            # the whole group as each one joins (about a heartbeat, 3 s, per topic) before any reads a record.
            group_id = f"{group}.{base}" if group else None
            broker.subscriber(topic, group_id=group_id, auto_offset_reset="earliest")(self._recorder(records[topic]))

    @staticmethod
    def _recorder(kept: list[dict[str, Any]]) -> Callable[[Any], Awaitable[None]]:
        # One parameter only: faststream spreads a JSON object over the parameters of a handler with several.
        async def record(body: Any) -> None:
            kept.append(body if isinstance(body, dict) else json.loads(body))

        return record

    @staticmethod
    def _client(app: FastAPI) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service", timeout=30)


class InMemory(_Harness[ServiceT]):
    """Run the scenarios on a MemoryDatabase and faststream's TestKafkaBroker (marker: unit)."""

    pytestmark = pytest.mark.unit

    @pytest.fixture
    async def hub(self, clock: FixedClock) -> AsyncIterator[RunningService[ServiceT]]:
        """The service, started in memory."""
        settings = self.settings_class(environment="test", topic_namespace="unit", log_level="WARNING",
                                       **self.settings_overrides)
        database = as_database(MemoryDatabase(settings.mongo_database))
        service = type(self).bootstrap(settings, database=database, clock=clock, topic_admin=no_topics)
        records: dict[str, list[dict[str, Any]]] = {}
        self._watch(service.runtime.broker, settings, records, None)
        async with running_in_memory(service.runtime) as broker, self._client(service.app) as http:
            yield RunningService(service, clock, broker, http, True, database, records)


class OnTheRealStack(_Harness[ServiceT]):
    """Run the scenarios in this process on the real Kafka broker and MongoDB-protocol server."""

    @pytest.fixture
    async def hub(self, clock: FixedClock, infrastructure: Infrastructure,
                  namespace: str) -> AsyncIterator[RunningService[ServiceT]]:
        """The service, started against the real servers in a namespace and database of its own.

        Its topics have one partition each unless the class says otherwise. A scenario here is about a use case,
        not about partitioning: one referral's records share a partition either way, and with one partition a
        record that blocked would block everything after it, so nothing a scenario proves gets easier. Every test
        here makes a namespace, and the broker's CPU to create and serve it is about halved (enquiry's seven
        scenarios: 3-4 broker CPU-s against 6-7). Partitioning itself is proven by the tests about it (agency
        copies sharing requests, replicas, consumer workers, the cluster), on the hub's three.
        """
        overrides: dict[str, Any] = {"topic_partitions": 1, **self.settings_overrides}
        settings = self.settings_class(
            environment="test", topic_namespace=namespace, log_level="WARNING",
            kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
            mongo_database=f"{namespace}_service", relay_poll_seconds=0.1, **overrides,
        )
        service = type(self).bootstrap(settings, clock=clock)
        records: dict[str, list[dict[str, Any]]] = {}
        self._watch(service.runtime.broker, settings, records, f"{namespace}.test-recorder")
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
        try:
            async with service.runtime.running(periodic_jobs=False), self._client(service.app) as http:
                yield RunningService(service, clock, service.runtime.broker, http, False,
                                     mongo[settings.mongo_database], records)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(mongo.drop_database(settings.mongo_database), 10)
            await mongo.close()
