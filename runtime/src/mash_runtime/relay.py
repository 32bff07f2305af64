"""The outbox relay: publishes every pending outbox entry of a service's aggregates, then clears it.

At least once: after a crash between publish and clear, the entry is published again and consumers
skip the event id they already applied. Each entry is published within the trace that queued it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate

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
        self.published = 0

    def wake(self) -> None:
        """Ask for a prompt pass (called after a write that queued events)."""
        self._wake.set()

    async def run(self) -> None:
        """Loop until `stop()`: one pass on every wake-up, and at least every poll interval."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.publish_pending()
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
        """Publish every pending entry once; returns how many were published."""
        count = 0
        for store in self._stores:
            for doc in await store.pending_outboxes():
                entries = [store.published_form(raw) for raw in doc.get(OUTBOX, [])]
                for entry in entries:
                    if self._settings.fault_crash_before_publish:
                        # Test-only: die like a killed process after the write and before the publish.
                        log.error("fault injection: exiting before publishing %s", entry.event_id)
                        os._exit(137)
                    await self._publish(entry)
                await store.clear_published(doc["_id"], {e.event_id for e in entries})
                count += len(entries)
        self.published += count
        return count

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
        finally:
            if token is not None:
                otel_context.detach(token)
