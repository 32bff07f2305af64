"""A service's running parts and their lifecycle: broker, store, outbox relay, clocks, HTTP app.

Each service's composition root (`bootstrap` in its `bootstrap.py`) builds one `ServiceRuntime`,
declares its stores, subscriptions and periodic jobs, and gets a FastAPI app whose lifespan starts and
stops everything in the right order.

The parts that talk to servers can be handed in, so that the same bootstrap runs a service in memory:
`database` (a pymongo AsyncDatabase, or mash_runtime.memory_store.MemoryDatabase), `broker` (a
faststream KafkaBroker; tests wrap it in TestKafkaBroker), `clock` (mash_runtime.clock) and
`topic_admin` (what creates topics at start-up; in memory there is nothing to create). Left out, each
is built from the settings, as in production. See mash_runtime.in_memory for running one in a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from mash_schemas.deadletter import DeadLetter
from mash_schemas.envelope import EventEnvelope
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from mash_runtime import metrics
from mash_runtime.audit import AuditLog
from mash_runtime.broker import build_broker
from mash_runtime.clock import Clock, utc_now
from mash_runtime.commits import OffsetCommits
from mash_runtime.consuming import DeadLetters, Handler, subscribe
from mash_runtime.http import install_error_handlers
from mash_runtime.logs import configure_logging
from mash_runtime.openapi import publish_absent_not_null, publish_error_body
from mash_runtime.relay import OutboxRelay
from mash_runtime.sealing import AtRestCipher
from mash_runtime.settings import HubSettings
from mash_runtime.shutdown import bounded, stop_tasks
from mash_runtime.store import AggregateStore
from mash_runtime.telemetry import setup_tracing
from mash_runtime.topics_admin import ensure_topics

EventT = TypeVar("EventT", bound=EventEnvelope[Any])
TopicAdmin = Callable[[HubSettings, set[str], dict[str, int]], Awaitable[None]]
log = logging.getLogger(__name__)


class ServiceRuntime:
    """Everything a service runs besides its rules."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        database: AsyncDatabase[dict[str, Any]] | None = None,
        broker: KafkaBroker | None = None,
        clock: Clock = utc_now,
        topic_admin: TopicAdmin | None = None,
    ) -> None:
        configure_logging(settings.service_name, settings.log_level, settings.log_file)
        self.settings = settings
        self.clock = clock
        self.tracer_provider = setup_tracing(settings)
        instrumentor = PymongoInstrumentor()
        if settings.trace_store_commands and not instrumentor.is_instrumented_by_opentelemetry:
            # Statements are not captured (the default): they would carry case content into spans.
            instrumentor.instrument(tracer_provider=self.tracer_provider, capture_statement=False)
        self.broker = broker if broker is not None else build_broker(settings, self.tracer_provider)
        self.dead_letters = DeadLetters(self.broker, settings)
        self.commits = OffsetCommits(settings.consumer_commit_linger_ms / 1000)
        self.mongo: AsyncMongoClient[dict[str, Any]] | None = None
        if database is None:
            self.mongo = AsyncMongoClient(settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=10_000)
            database = self.mongo[settings.mongo_database]
        self.db: AsyncDatabase[dict[str, Any]] = database
        self._topic_admin: TopicAdmin = topic_admin or ensure_topics
        self.audit = AuditLog(self.db["audit"], settings.service_name, clock)
        self.cipher = AtRestCipher.from_settings(settings)
        self._stores: list[AggregateStore] = []
        self.relay = OutboxRelay(self.broker, self._stores, settings)
        self._topics: set[str] = {settings.topic(DeadLetter.TOPIC)}
        self._topic_partitions: dict[str, int] = {}
        self._jobs: list[tuple[float, Callable[[], Awaitable[None]]]] = []
        self._startup: list[Callable[[], Awaitable[None]]] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._stopping = asyncio.Event()

    def store(self, collection: str) -> AggregateStore:
        """An aggregate store whose outbox the relay publishes."""
        aggregate_store = AggregateStore(self.db[collection], cipher=self.cipher)
        aggregate_store.on_events = lambda aggregate_id: self.relay.mark(aggregate_store, aggregate_id)
        self._stores.append(aggregate_store)
        return aggregate_store

    def topic(self, base: str, partitions: int | None = None) -> str:
        """The deployed name of `base`, created at start-up if missing."""
        name = self.settings.topic(base)
        self._topics.add(name)
        if partitions is not None:
            self._topic_partitions[name] = partitions
        return name

    def subscribe(self, base_topic: str, event_model: type[EventT], group_id: str, handler: Handler[EventT],
                  partitions: int | None = None, workers: int | None = None, batch: int | None = None) -> None:
        """Consume `base_topic` durably in `group_id`, dead-lettering what cannot be applied.

        `workers` consumers of the group run in this process, one partition set each (default:
        `consumer_workers` from the settings); `batch` records are taken at once (default: `consumer_batch`,
        1 unless set); see mash_runtime.consuming.subscribe.
        """
        subscribe(
            self.broker,
            self.settings,
            topic=self.topic(base_topic, partitions),
            event_model=event_model,
            group_id=self.settings.group(group_id),
            handler=handler,
            dead_letters=self.dead_letters,
            workers=workers or self.settings.consumer_workers,
            batch=batch,
            commits=self.commits,
        )

    def every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` periodically while the service runs (clock watchers); failures are logged, not fatal."""
        self._jobs.append((seconds, job))

    def on_startup(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` after the store is reachable and before consuming starts (indexes, imports)."""
        self._startup.append(step)

    def on_shutdown(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` when the service stops, after its consumers, relay and jobs (closing a shared client)."""
        self._shutdown.append(step)

    async def _periodic(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            try:
                await job()
            except Exception:
                log.exception("periodic job failed; will run again", extra={"fields": {"job": job.__name__}})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    @contextlib.asynccontextmanager
    async def running(self, *, periodic_jobs: bool = True) -> AsyncIterator[None]:
        """Start in dependency order: store, topics, relay, consumers, clocks; stop in reverse.

        `periodic_jobs=False` leaves the clock watchers and sweeps to the caller (tests call them with a
        FixedClock, mash_runtime.in_memory).
        """
        await self.db.command("ping")
        for aggregate_store in self._stores:
            await aggregate_store.ensure_indexes()
        for step in self._startup:
            await step()
        await self._topic_admin(self.settings, self._topics, self._topic_partitions)
        self.commits.open()
        await self.broker.start()
        relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")
        jobs = [asyncio.create_task(self._periodic(s, j), name=j.__name__) for s, j in self._jobs
                if periodic_jobs]
        log.info("service started", extra={"fields": {"topics": sorted(self._topics)}})
        try:
            yield
        finally:
            # Each step is bounded (mash_runtime.shutdown): with the broker down, none may hold up the exit.
            self._stopping.set()
            self.relay.stop()
            grace = self.settings.shutdown_step_seconds
            await stop_tasks([relay_task, *jobs], grace)
            await bounded(self.commits.flush(), grace, "offset commits")  # while the consumers can still commit
            await bounded(self.broker.stop(), grace, "broker clients")
            for step in self._shutdown:
                await bounded(step(), grace, step.__name__)
            if self.mongo is not None:
                await bounded(self.mongo.close(), grace, "store client")
            self.tracer_provider.shutdown()

    async def close(self) -> None:
        """Close the store client this runtime opened (for one-off commands that never call `running`)."""
        if self.mongo is not None:
            await self.mongo.close()

    def http_app(self, title: str, description: str) -> FastAPI:
        """A FastAPI app with the service's lifespan, JSON errors, health checks and tracing."""

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with self.running():
                yield

        app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
        app.state.jwt_secret = self.settings.jwt_secret.get_secret_value()
        app.state.runtime = self
        install_error_handlers(app)

        @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
        async def health() -> dict[str, str]:
            return {"status": "ok", "service": self.settings.service_name}

        @app.get("/ready", tags=["operations"], summary="Readiness: the store answers and the broker is started")
        async def ready() -> JSONResponse:
            try:
                await self.db.command("ping")
            except Exception as exc:
                return JSONResponse({"status": "not_ready", "reason": f"store: {type(exc).__name__}"}, 503)
            return JSONResponse({"status": "ready", "outbox_published": self.relay.published})

        @app.get("/metrics", tags=["operations"], summary="Operations metrics (Prometheus text format)")
        async def prometheus_metrics() -> Response:
            body, content_type = metrics.exposition()
            return Response(body, media_type=content_type)

        # One span per request; the ASGI "http send"/"http receive" sub-spans (three a request, 70-140 µs of CPU
        # each) said nothing the request's span does not.
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider,
                                           excluded_urls="health,ready,metrics", exclude_spans=["send", "receive"])
        publish_absent_not_null(app)
        publish_error_body(app)
        return app


def serve(app: FastAPI, settings: HubSettings) -> None:
    """Run the app under uvicorn on the configured address (loopback by default).

    With httptools (the HTTP parser of Node.js) for less CPU per request than the pure-Python h11 parser, on
    asyncio's own event loop, never uvloop: aiokafka catches only OSError when it writes to a connection, and
    uvloop raises RuntimeError for a connection the broker has just closed, which ends a consumer's coordination
    (or metadata) routine for good (aiokafka issue 1038). On the three-broker cluster that left a consumer fetching
    from a dead broker until the fault test gave up (docs/testing.md).
    """
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
                loop="asyncio", http="httptools", timeout_graceful_shutdown=int(settings.shutdown_step_seconds) + 1)
