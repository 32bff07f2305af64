"""The outbox relay: publishes every pending outbox entry of a service's aggregates, then clears it.

At least once: after a crash between publish and clear, the entry is published again and consumers
skip the event id they already applied. Each entry is published within the trace that queued it.

Each write that queues events marks its aggregate and leaves what it wrote (version and outbox) with its
store, so the relay publishes from that without reading the document back, and clears it with one
version-checked write (reading afresh only if someone wrote since). A full scan for pending outboxes runs
at start-up and every `relay_full_scan_seconds`, which is what publishes entries left by a crash (or by
another replica); scanning on every pass would cost a read of the whole collection each time on the
mongo-java-server stand-in, which filters on anything but `_id` that way.

A pass sends every entry it found before waiting for any acknowledgement, then waits for them together
and clears each aggregate whose entries were all acknowledged: the producer batches what is sent together,
and a burst of writes costs one round of broker acknowledgements, not one per event. Order is kept where it
matters: one aggregate's entries are sent in the order queued, and the idempotent producer keeps a
partition's records in the order sent. An aggregate whose send failed keeps its entries and is tried again
on the next pass.

`BEFORE_SEND` is a hook point for tests that run a service as a process and want it to fail at the worst
moment (tests/support/crash_before_publish.py exits after the write and before the publish); nothing in
the services' own code adds to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate

from mash_runtime import metrics
from mash_runtime.outbox import OutboxEntry
from mash_runtime.settings import HubSettings
from mash_runtime.store import OUTBOX, AggregateStore

log = logging.getLogger(__name__)
SENT_MEMORY = 10_000  # event ids this relay published lately: a later view still listing one skips it
BEFORE_SEND: list[Callable[[OutboxEntry], None]] = []  # test hooks (see the module's docstring)


@dataclass
class _Found:
    """One aggregate's pending entries, as the relay found them, and their sends."""

    store: AggregateStore
    doc: dict[str, Any]  # _id, _version, _outbox (stored form)
    entries: list[OutboxEntry]
    acknowledgements: list[Awaitable[Any]] = field(default_factory=list)


class OutboxRelay:
    """Publishes and clears the outboxes of the given stores."""

    def __init__(self, broker: KafkaBroker, stores: Sequence[AggregateStore], settings: HubSettings) -> None:
        self._broker = broker
        self._stores = stores
        self._settings = settings
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._marked: dict[int, set[str]] = {}
        self._sent: OrderedDict[str, None] = OrderedDict()
        # One pass at a time: a pass someone else starts (a test's flush, a start-up scan) waits for the running
        # one, then skips what that one sent, instead of sending the same entries again beside it.
        self._one_pass = asyncio.Lock()
        self.published = 0

    def wake(self) -> None:
        """Ask for a prompt pass."""
        self._wake.set()

    def mark(self, store: AggregateStore, aggregate_id: str) -> None:
        """`aggregate_id` in `store` has just queued events: publish them promptly."""
        self._marked.setdefault(id(store), set()).add(aggregate_id)
        self._wake.set()

    async def run(self) -> None:
        """Loop until `stop()`: one pass on every wake-up, and at least every poll interval."""
        last_full_scan = float("-inf")
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                if loop.time() - last_full_scan >= self._settings.relay_full_scan_seconds:
                    last_full_scan = loop.time()
                    await self.publish_pending()
                else:
                    await self.publish_marked()
            except Exception:
                # The broker or the store blipped: the entries stay, and the next pass tries again.
                log.exception("outbox relay pass failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._settings.relay_poll_seconds)

    def stop(self) -> None:
        """End `run()` after its current pass."""
        self._stopping.set()
        self._wake.set()

    async def publish_pending(self) -> int:
        """Full scan: publish every pending entry of every store once; returns how many were published."""
        async with self._one_pass:
            return await self._publish_pending()

    async def _publish_pending(self) -> int:
        found: list[_Found] = []
        for store in self._stores:
            self._marked.pop(id(store), None)  # the scan covers them
            found += [self._found(store, doc) for doc in await store.pending_outboxes()]
        metrics.outbox_pending(self._settings.service_name, [raw for f in found for raw in f.doc.get(OUTBOX, [])])
        count = await self._publish(found)
        metrics.outbox_pending(self._settings.service_name, [])  # every entry found is published
        return count

    async def publish_marked(self) -> int:
        """Publish the pending entries of the aggregates marked since the last pass."""
        async with self._one_pass:
            return await self._publish_marked()

    async def _publish_marked(self) -> int:
        found: list[_Found] = []
        for store in self._stores:
            marked = sorted(self._marked.pop(id(store), set()))
            left = {aggregate_id: store.recent_write(aggregate_id) for aggregate_id in marked}
            unknown = [aggregate_id for aggregate_id, doc in left.items() if doc is None]
            read = dict(zip(unknown, await asyncio.gather(*map(store.pending_outbox, unknown)), strict=True))
            for aggregate_id in marked:
                doc = left[aggregate_id] or read.get(aggregate_id)
                if doc is not None and doc.get(OUTBOX):
                    found.append(self._found(store, doc))
        return await self._publish(found)

    @staticmethod
    def _found(store: AggregateStore, doc: dict[str, Any]) -> _Found:
        return _Found(store, doc, [store.published_form(raw) for raw in doc.get(OUTBOX, [])])

    async def _publish(self, found: list[_Found]) -> int:
        """Send every entry not sent lately, then wait for the broker, then clear what it acknowledged."""
        failed: dict[int, BaseException] = {}
        for n, each in enumerate(found):
            try:
                for entry in each.entries:  # handed to the producer one by one, in order; acknowledged later
                    if entry.event_id in self._sent:
                        continue
                    for hook in BEFORE_SEND:
                        hook(entry)
                    each.acknowledgements.append(await self._send(entry))
            except Exception as exc:
                failed[n] = exc
        outcomes = await asyncio.gather(
            *(asyncio.gather(*each.acknowledgements) for each in found), return_exceptions=True
        )
        outcomes = [failed.get(n, outcome) for n, outcome in enumerate(outcomes)]
        count = 0
        clears: dict[int, tuple[AggregateStore, list[tuple[dict[str, Any], set[str]]]]] = {}
        for each, outcome in zip(found, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("outbox relay: publishing failed; the entries stay and go again", exc_info=outcome,
                          extra={"fields": {"aggregate_id": each.doc["_id"]}})
                self.mark(each.store, each.doc["_id"])
                continue
            fresh = [entry for entry in each.entries if entry.event_id not in self._sent]
            for entry in fresh:
                self._remember(entry.event_id)
                metrics.produced(self._settings.service_name, entry.topic, entry.event_type)
            count += len(fresh)
            clears.setdefault(id(each.store), (each.store, []))[1].append(
                (each.doc, {e.event_id for e in each.entries}))
        # One write per store clears what the pass published (a batch's aggregates together).
        await asyncio.gather(*(store.clear_published_together(cleared) for store, cleared in clears.values()))
        self.published += count
        return count

    def _remember(self, event_id: str) -> None:
        self._sent[event_id] = None
        if len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)

    async def _send(self, entry: OutboxEntry) -> Awaitable[Any]:
        """Hand the entry to the producer (within its trace); returns what completes when the broker has it."""
        parent = propagate.extract({"traceparent": entry.traceparent}) if entry.traceparent else None
        token = otel_context.attach(parent) if parent is not None else None
        try:
            acknowledged: Any = await self._broker.publish(
                entry.value,
                topic=entry.topic,
                key=entry.key.encode(),
                headers={"content-type": "application/json", "event-type": entry.event_type},
                no_confirm=True,
            )
        finally:
            if token is not None:
                otel_context.detach(token)
        if not inspect.isawaitable(acknowledged):
            # An in-memory broker (TestKafkaBroker) delivers at once and hands back no pending acknowledgement.
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(acknowledged)
            return done
        return acknowledged
