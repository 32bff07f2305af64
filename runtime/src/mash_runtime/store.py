"""One aggregate, one document: state, applied-event marks (inbox) and pending events (outbox).

Every change is a read, a pure decision, and one conditional write on the document's version
(optimistic concurrency); an aggregate that is almost certainly new may be inserted without the read
(`apply(likely_new=True)`), since an insert under a taken `_id` fails and sends it back to read.
No multi-document transactions are needed, so the same code runs on MongoDB
standalone and on the native stack's mongo-java-server.

The version check is the only guard, and it is enough across tasks, processes and replicas alike: MongoDB
and mongo-java-server make a filtered write atomic, so of several writers that read the same version
exactly one matches and the others retry on a fresh read (after a short random pause, so that a crowd
of writers spreads out instead of colliding again). What the code relies on from the collection is
pinned down by the store contract suite (tests/support/store_contract.py), run on the real server and
on the in-memory fake (mash_runtime.memory_store). Only `find_one`, `insert_one`, `replace_one`,
`update_one`, `find` and `create_index` are used, and never `find_one_and_update` returning the updated
document (mongo-java-server was seen to return another writer's result under concurrency).

Every read and write names the document by `_id` alone, or by `_id` and `_version` together, and a unique
index on (`_id`, `_version`) serves the latter: mongo-java-server uses an index only when a filter names
exactly that index's fields, so without it each version-checked write read the whole collection (measured:
36 ms a write at 4,000 documents, 5 ms with the index; on MongoDB the `_id` index serves both anyway).
A write that queues events leaves what it wrote (version and outbox) for the relay, which then publishes
and clears without reading the document again (`recent_write`, `clear_published(..., seen=...)`).

Every write stamps the document with its kind's record version (`_record_version`; the kind is the
collection's name), and every load upcasts an older document's state to the current version before the
caller sees it (mash_runtime.upcasting), so a document outlives the code that wrote it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.errors import DuplicateKeyError

from mash_runtime import batching
from mash_runtime.outbox import OutboxEntry
from mash_runtime.sealing import AtRestCipher
from mash_runtime.upcasting import STORED_UPCASTERS, StoredUpcasters

log = logging.getLogger(__name__)

INBOX = batching.INBOX  # "_inbox"
OUTBOX = "_outbox"
OUTBOX_PENDING = "_outbox_pending"
VERSION = batching.VERSION  # "_version"
RECORD_VERSION = "_record_version"  # the shape of the aggregate's state (mash_runtime.upcasting); absent = 1
INBOX_LIMIT = 500  # an aggregate sees tens of events; keep the marks bounded all the same
CLEAR_ATTEMPTS = 20
# After a lost race, pause a random time below a ceiling that starts at 5 ms and doubles up to 250 ms.
# Measured on mongo-java-server, 30 writers on one aggregate from two clients: at most 9 of the 20
# attempts needed, about 0.4 s in all; without the pause most writers ran out of attempts.
_BACKOFF_FIRST = 0.005
_BACKOFF_CEILING = 0.25
_BOOKKEEPING = {"_id", VERSION, RECORD_VERSION, INBOX, OUTBOX, OUTBOX_PENDING}
VERSION_INDEX = "_id_version"  # unique (_id, _version): serves the version-checked writes on every backend


class ConcurrencyConflict(Exception):
    """Another writer changed the aggregate since it was read."""


@dataclass
class Change:
    """What a decision on an aggregate produced: its new state and the events to publish."""

    state: dict[str, Any]
    events: Sequence[OutboxEntry] = field(default_factory=list)


Decide = Callable[[dict[str, Any] | None], Awaitable[Change | None] | Change | None]


def state_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The aggregate's own fields, without the store's bookkeeping."""
    return {k: v for k, v in doc.items() if k not in _BOOKKEEPING}


async def _back_off(conflicts: int) -> None:
    """Pause a random time after the `conflicts`-th lost race in a row (full jitter, doubling ceiling)."""
    await asyncio.sleep(random.uniform(0, min(_BACKOFF_CEILING, _BACKOFF_FIRST * 2 ** (conflicts - 1))))


class AggregateStore:
    """Reads and conditionally writes aggregates of one kind in one collection."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        on_events: Callable[[str], None] | None = None,
        cipher: AtRestCipher | None = None,
        *,
        kind: str | None = None,
        upcasters: StoredUpcasters = STORED_UPCASTERS,
    ):
        self.collection = collection
        # What the aggregates are, for their record version and upcasters: the collection's name by default.
        self.kind = kind or collection.name
        self.upcasters = upcasters
        self.record_version = upcasters.current_version(self.kind)
        self.on_events = on_events
        # Outbox values may carry sealed items: encrypted at rest when a cipher is given.
        self.cipher = cipher
        # What the latest write of each aggregate with queued events left, for the relay (only when it listens).
        self._written: dict[str, dict[str, Any]] = {}

    async def get(self, aggregate_id: str) -> dict[str, Any] | None:
        """The aggregate's state, or None."""
        doc = await self.collection.find_one({"_id": aggregate_id})
        return self.loaded_state(doc) if doc else None

    def loaded_state(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The aggregate's state in `doc`, upcast from the record version it was written at to the current one."""
        version = doc.get(RECORD_VERSION, 1)
        state = state_of(doc)
        return state if version == self.record_version else self.upcasters.upcast(self.kind, state, version)

    async def apply(
        self,
        aggregate_id: str,
        decide: Decide,
        *,
        event_id: str | None = None,
        attempts: int = 20,
        likely_new: bool = False,
        seen: dict[str, Any] | None = None,
    ) -> bool:
        """Run `decide` on the current state and store its change atomically.

        `event_id` marks the change as the application of that event: if it was applied before, nothing
        happens and False is returned (this is what makes redelivery harmless). `decide` returns None to
        change nothing; it may be called again after a concurrent write, so it must be pure.

        `likely_new` says the aggregate almost certainly does not exist yet (a contact under a fresh id): the
        first attempt then decides on None and inserts without reading first, saving a store round trip. If
        the aggregate does exist, the insert fails on its `_id` and the next attempt reads it and decides
        again (at once: that was not a race), so the outcome is the same as reading first.

        `seen` is the whole document as the caller last read or wrote it (bookkeeping and version included):
        the first attempt decides on it instead of reading. If anyone has written since, the write loses the
        version check and the next attempt reads afresh, so the outcome is again the same as reading first.
        """
        batch = batching.current()  # within a consumed batch: read and write with its other records
        for attempt in range(attempts):
            blind = likely_new and attempt == 0
            if attempt and not ((likely_new or seen is not None) and attempt == 1):
                await _back_off(attempt - 1 if likely_new or seen is not None else attempt)
            if attempt == 0 and seen is not None:
                doc: dict[str, Any] | None = seen
            else:
                doc = None if blind else await self._read(aggregate_id, batch)
            if doc is not None and event_id is not None and event_id in doc.get(INBOX, []):
                return False
            current = self.loaded_state(doc) if doc else None
            outcome = decide(current)
            change = await outcome if isinstance(outcome, Awaitable) else outcome
            if change is None:
                if current is not None and event_id is not None:
                    # Remember the event even when it changed nothing, so a replay is cheap and silent.
                    change = Change(state=current)
                else:
                    return False
            try:
                written = await self._write(aggregate_id, doc, change, event_id, batch)
            except ConcurrencyConflict:
                batch = None  # a lost race: this record goes on one by one, as outside a batch
                continue
            if change.events and self.on_events is not None:
                self._written[aggregate_id] = written
                self.on_events(aggregate_id)
            return True
        raise ConcurrencyConflict(f"{aggregate_id}: still contended after {attempts} attempts")

    async def _read(self, aggregate_id: str, batch: batching.StoreBatch | None) -> dict[str, Any] | None:
        if batch is None:
            return await self.collection.find_one({"_id": aggregate_id})
        return await batch.load(self.collection, aggregate_id)

    async def _write(
        self, aggregate_id: str, doc: dict[str, Any] | None, change: Change, event_id: str | None,
        batch: batching.StoreBatch | None = None,
    ) -> dict[str, Any]:
        """Store the change on the version read; returns the id, new version and outbox written."""
        inbox = list(doc.get(INBOX, [])) if doc else []
        if event_id is not None:
            inbox = [*inbox, event_id][-INBOX_LIMIT:]
        outbox = list(doc.get(OUTBOX, [])) if doc else []
        outbox += [self._stored(entry) for entry in change.events]
        body = {
            **{k: v for k, v in change.state.items() if k not in _BOOKKEEPING},
            RECORD_VERSION: self.record_version,
            INBOX: inbox,
            OUTBOX: outbox,
            OUTBOX_PENDING: bool(outbox),
        }
        if batch is not None and (event_id is not None or doc is None):
            # Gathered with the batch's other writes; a replace must mark an event to tell a lost race.
            version = doc[VERSION] + 1 if doc else 1
            operation: InsertOne[dict[str, Any]] | ReplaceOne[dict[str, Any]] = (
                InsertOne({"_id": aggregate_id, VERSION: 1, **body}) if doc is None
                else ReplaceOne({"_id": aggregate_id, VERSION: doc[VERSION]}, {VERSION: version, **body}))
            if not await batch.write(self.collection, aggregate_id, operation, event_id):
                raise ConcurrencyConflict(aggregate_id)
            return {"_id": aggregate_id, VERSION: version, OUTBOX: outbox}
        if doc is None:
            try:
                await self.collection.insert_one({"_id": aggregate_id, VERSION: 1, **body})
            except DuplicateKeyError as exc:
                raise ConcurrencyConflict(aggregate_id) from exc
            return {"_id": aggregate_id, VERSION: 1, OUTBOX: outbox}
        result = await self.collection.replace_one(
            {"_id": aggregate_id, VERSION: doc[VERSION]}, {VERSION: doc[VERSION] + 1, **body}
        )
        if result.matched_count != 1:
            raise ConcurrencyConflict(aggregate_id)
        return {"_id": aggregate_id, VERSION: doc[VERSION] + 1, OUTBOX: outbox}

    def recent_write(self, aggregate_id: str) -> dict[str, Any] | None:
        """What this store's latest write of the aggregate left (id, version, outbox), once; None if unknown.

        The relay publishes from it instead of reading the document back. It may be stale (another replica
        or the relay itself has written since): the version check of `clear_published` tells.
        """
        return self._written.pop(aggregate_id, None)

    def _stored(self, entry: OutboxEntry) -> dict[str, Any]:
        stored = entry.model_dump(mode="json")
        if self.cipher is not None:
            stored["value"] = self.cipher.seal(entry.value)
            stored["sealed"] = True
        return stored

    def published_form(self, stored: dict[str, Any]) -> OutboxEntry:
        """The entry as it goes on the wire (opened if it was sealed at rest)."""
        fields = {k: v for k, v in stored.items() if k != "sealed"}
        if stored.get("sealed"):
            if self.cipher is None:
                raise ValueError("an outbox entry is sealed but this store has no cipher")
            fields["value"] = self.cipher.open(stored["value"])
        return OutboxEntry.model_validate(fields)

    async def pending_outboxes(self) -> list[dict[str, Any]]:
        """Documents with events waiting to be published (id, version and outbox only)."""
        cursor = self.collection.find({OUTBOX_PENDING: True}, {OUTBOX: 1, VERSION: 1})
        return [doc async for doc in cursor]

    async def pending_outbox(self, aggregate_id: str) -> dict[str, Any] | None:
        """One aggregate's pending outbox (id, version and outbox), or None: looked up by `_id` alone."""
        doc = await self.collection.find_one({"_id": aggregate_id}, {OUTBOX: 1, VERSION: 1, OUTBOX_PENDING: 1})
        if doc is None or not doc.pop(OUTBOX_PENDING, False):
            return None
        return doc

    async def clear_published(
        self, aggregate_id: str, published: set[str], *, seen: dict[str, Any] | None = None
    ) -> None:
        """Remove published entries, keeping any queued since the relay read the document.

        `seen` is the document as the relay found it (version and outbox): if nobody has written since, one
        version-checked write clears it; otherwise the document is read afresh and the clear retried.
        """
        doc, conflicts = seen, 0
        for _ in range(CLEAR_ATTEMPTS):
            fresh = doc is None
            if doc is None:
                doc = await self.collection.find_one({"_id": aggregate_id}, {OUTBOX: 1, VERSION: 1})
                if doc is None:
                    return
            remaining = [e for e in doc.get(OUTBOX, []) if e["event_id"] not in published]
            result = await self.collection.update_one(
                {"_id": aggregate_id, VERSION: doc[VERSION]},
                {"$set": {OUTBOX: remaining, OUTBOX_PENDING: bool(remaining), VERSION: doc[VERSION] + 1}},
            )
            if result.matched_count == 1:
                return
            doc = None
            if fresh:  # lost a race with a writer (a stale `seen` is simply read again)
                conflicts += 1
                await _back_off(conflicts)
        # Left pending: the next pass publishes again and consumers skip the repeat.

    async def clear_published_together(self, cleared: Sequence[tuple[dict[str, Any], set[str]]]) -> None:
        """Clear several aggregates' published entries with one write: (the document as the relay found it, ids).

        One unordered bulk write of the version-checked updates `clear_published` would send one by one. If
        fewer matched than were sent (someone wrote since the relay's view), the outboxes are read again and
        each one still holding a published entry is cleared on its own, as `clear_published` does.
        """
        if len(cleared) < 2:
            for seen, published in cleared:
                await self.clear_published(seen["_id"], published, seen=seen)
            return
        updates = []
        for seen, published in cleared:
            remaining = [e for e in seen.get(OUTBOX, []) if e["event_id"] not in published]
            updates.append(UpdateOne({"_id": seen["_id"], VERSION: seen[VERSION]},
                                     {"$set": {OUTBOX: remaining, OUTBOX_PENDING: bool(remaining),
                                               VERSION: seen[VERSION] + 1}}))
        result = await self.collection.bulk_write(updates, ordered=False)
        if result.matched_count == len(updates):
            return
        ids = [seen["_id"] for seen, _ in cleared]
        now = {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": ids}}, {OUTBOX: 1, VERSION: 1})}
        for seen, published in cleared:
            doc = now.get(seen["_id"])
            if doc is not None and any(e["event_id"] in published for e in doc.get(OUTBOX, [])):
                await self.clear_published(seen["_id"], published, seen=doc)

    async def ensure_indexes(self) -> None:
        """Version-checked writes name `_id` and `_version`; the relay's periodic scan filters on the flag."""
        await self.collection.create_index([("_id", 1), (VERSION, 1)], unique=True, name=VERSION_INDEX)
        await self.collection.create_index(OUTBOX_PENDING)


def sweep_page(
    collection: AsyncCollection[dict[str, Any]], dated_by: str | None, before: datetime, after: str | None,
    limit: int, projection: dict[str, int] | None = None,
) -> AsyncCursor[dict[str, Any]]:
    """One page of a retention sweep: documents whose `dated_by` is before `before`, in `_id` order after `after`.

    Every service's sweeper pages the same way, by id (stable; times tie), so that a batch stopped part-way
    resumes after the last document it read instead of reading again what it kept. `dated_by=None` pages the
    whole collection, for documents whose date cannot be compared in the query (enquiry keeps it as text).
    """
    query: dict[str, Any] = {dated_by: {"$lt": before}} if dated_by else {}
    if after is not None:
        query["_id"] = {"$gt": after}
    return collection.find(query, projection).sort("_id", 1).limit(limit)

