"""Outgoing events stored inside the aggregate that caused them, and the relay that publishes them.

Writing the event into the same document as the state change, in one atomic update, is what makes
"stored but never published" impossible without multi-document transactions. The relay publishes
pending entries (at least once) and then clears them; consumers skip event ids they already applied,
so a publish repeated after a crash is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker
from mash_schemas.envelope import EventEnvelope
from opentelemetry import context as otel_context
from opentelemetry import propagate
from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from mash_runtime.settings import HubSettings

log = logging.getLogger(__name__)

OUTBOX = "_outbox"
OUTBOX_PENDING = "_outbox_pending"
VERSION = "_version"


class OutboxEntry(BaseModel):
    """An event waiting to be published, with the trace it belongs to."""

    event_id: str
    event_type: str
    topic: str
    key: str
    value: str
    traceparent: str | None = None
    created_at: datetime

    @classmethod
    def of(cls, event: EventEnvelope[Any], topic: str, key: str | None = None) -> OutboxEntry:
        """Queue `event` for `topic`, keyed by its referral so one referral's events stay in order."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the current trace, so the relay's publish continues it
        return cls(
            event_id=str(event.event_id),
            event_type=event.event_type,
            topic=topic,
            key=key or event.correlation_id,
            value=event.model_dump_json(),
            traceparent=carrier.get("traceparent"),
            created_at=datetime.now(UTC),
        )


class OutboxRelay:
    """Publishes every pending outbox entry of the given collections, then clears it."""

    def __init__(
        self, broker: KafkaBroker, collections: Sequence[AsyncCollection[dict[str, Any]]], settings: HubSettings
    ) -> None:
        self._broker = broker
        self._collections = list(collections)
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
                # The broker or the store blipped: keep the entries and try again on the next pass.
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
        for collection in self._collections:
            async for doc in collection.find({OUTBOX_PENDING: True}):
                count += await self._publish_document(collection, doc)
        return count

    async def _publish_document(self, collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]) -> int:
        entries = [OutboxEntry.model_validate(raw) for raw in doc.get(OUTBOX, [])]
        for entry in entries:
            if self._settings.fault_crash_before_publish:
                # Test-only: die like a killed process after the write and before the publish.
                log.error("fault injection: exiting before publish of %s", entry.event_id)
                os._exit(137)
            await self._publish(entry)
        # Clear what was published only if nobody changed the document meanwhile; otherwise the next
        # pass publishes again and consumers skip the repeat.
        await collection.update_one(
            {"_id": doc["_id"], VERSION: doc[VERSION]},
            {"$set": {OUTBOX: [], OUTBOX_PENDING: False, VERSION: doc[VERSION] + 1}},
        )
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
        finally:
            if token is not None:
                otel_context.detach(token)
