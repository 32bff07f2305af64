"""The outbox relay: publishes every pending outbox entry of a service's aggregates, then clears it.

At least once: after a crash between publish and clear, the entry is published again and consumers
skip the event id they already applied. Each entry is published within the trace that queued it.

Each write that queues events marks its aggregate, and the relay looks the marked ones up by id. A
full scan for pending outboxes runs at start-up and every `relay_full_scan_seconds`, which is what
publishes entries left by a crash (or by another replica). Scanning on every pass would be quadratic
on the FerretDB stand-in, which filters on anything but `_id` by reading the whole collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate

from mash_runtime import metrics
from mash_runtime.outbox import OutboxEntry
from mash_runtime.settings import HubSettings
from mash_runtime.store import OUTBOX, AggregateStore

log = logging.getLogger(__name__)


class OutboxRelay:
    """Publishes and clears the outboxes of the given stores."""

    def __init__(self, broker: KafkaBroker, stores: Sequence[AggregateStore], settings: HubSettings) -> None:
        self._broker = broker
        self._stores = stores
        self._settings = settings
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._marked: dict[int, set[str]] = {}
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
        count = 0
        pending: list[tuple[AggregateStore, dict[str, Any]]] = []
        for store in self._stores:
            self._marked.pop(id(store), None)  # the scan covers them
            pending += [(store, doc) for doc in await store.pending_outboxes()]
        metrics.outbox_pending(self._settings.service_name, [e for _, doc in pending for e in doc.get(OUTBOX, [])])
        for store, doc in pending:
            count += await self._publish_document(store, doc)
        metrics.outbox_pending(self._settings.service_name, [])  # every entry found is published
        return count

    async def publish_marked(self) -> int:
        """Publish the pending entries of the aggregates marked since the last pass."""
        count = 0
        for store in self._stores:
            marked = self._marked.pop(id(store), set())
            for aggregate_id in sorted(marked):
                doc = await store.pending_outbox(aggregate_id)
                if doc is not None:
                    count += await self._publish_document(store, doc)
        return count

    async def _publish_document(self, store: AggregateStore, doc: dict[str, Any]) -> int:
        entries = [store.published_form(raw) for raw in doc.get(OUTBOX, [])]
        for entry in entries:
            if self._settings.fault_crash_before_publish:
                # Test-only: die like a killed process after the write and before the publish.
                log.error("fault injection: exiting before publishing %s", entry.event_id)
                os._exit(137)
            await self._publish(entry)
        await store.clear_published(doc["_id"], {e.event_id for e in entries})
        self.published += len(entries)
        return len(entries)

    async def _publish(self, entry: OutboxEntry) -> None:
        parent = propagate.extract({"traceparent": entry.traceparent}) if entry.traceparent else None
        token = otel_context.attach(parent) if parent is not None else None
        try:
            await self._broker.publish(
                entry.value,
                topic=entry.topic,
                key=entry.key.encode(),
                headers={"content-type": "application/json", "event-type": entry.event_type},
            )
            metrics.produced(self._settings.service_name, entry.topic, entry.event_type)
        finally:
            if token is not None:
                otel_context.detach(token)
