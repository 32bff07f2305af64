"""The store contract: exactly what AggregateStore relies on from its MongoDB collection.

One abstract suite, run on every backend: the in-memory fake that unit tests use
(tests/unit/runtime/test_store_contract_memory.py) and the real MongoDB-protocol server
(tests/integration/test_store_contract_real.py; mongo-java-server natively, MongoDB in containers).

A subclass provides two fixtures: `collection`, an empty collection, and `replica_collection`, the same
collection reached another way (on a server: another client, so other connections), which stands for
a second replica of the service. Writers in the concurrency tests alternate between the two.

What is relied on, and nothing more:
- a version-checked `replace_one` is atomic: of writers that read the same version, exactly one matches,
  so writers that retry on a fresh read lose no update (about 30 at once);
- `insert_one` of an existing `_id` raises DuplicateKeyError;
- an event id is applied once, however often and however concurrently it is delivered (the inbox);
- events queued with a change wait in the outbox until cleared, and clearing keeps what was queued
  after the relay read the outbox;
- the pending scan finds exactly the aggregates with queued events, and returns only their id, version
  and outbox;
- what a write leaves for the relay (`recent_write`) is exactly what it stored, and clearing from it
  while a writer has written since keeps the writer's events.
The stores create their indexes first, as a service does at start-up (the unique (_id, _version) index
is what serves the version-checked writes on mongo-java-server).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from mash_runtime.outbox import OutboxEntry
from mash_runtime.store import INBOX, OUTBOX, OUTBOX_PENDING, VERSION, AggregateStore, Change
from pymongo.errors import DuplicateKeyError

WRITERS = 30


def entry(name: str) -> OutboxEntry:
    """An outbox entry whose event id is `name`."""
    return OutboxEntry(
        event_id=name,
        event_type="test.event",
        topic="test.topic",
        key="k",
        value=f'{{"event_id": "{name}"}}',
        created_at=datetime.now(UTC),
    )


def add_one(state: dict[str, Any] | None) -> Change:
    """A decision that bumps a counter."""
    return Change(state={"count": (state or {}).get("count", 0) + 1})


class StoreContract:
    """The contract; subclasses provide the `collection` and `replica_collection` fixtures."""

    @pytest.fixture
    def collection(self) -> Any:
        """An empty collection (each test gets its own)."""
        raise NotImplementedError("a backend's subclass provides the collection")

    @pytest.fixture
    def replica_collection(self, collection: Any) -> Any:
        """The same collection reached another way, standing for another replica."""
        raise NotImplementedError("a backend's subclass provides the replica's view of the collection")

    @pytest.fixture
    async def stores(self, collection: Any, replica_collection: Any) -> list[AggregateStore]:
        """Two stores on the one collection (two replicas of a service), its indexes created."""
        pair = [AggregateStore(collection), AggregateStore(replica_collection)]
        await pair[0].ensure_indexes()
        return pair

    # ------------------------------------------------------------------ the collection itself

    async def test_of_writers_that_read_one_version_exactly_one_replace_matches(
        self, collection: Any, replica_collection: Any
    ) -> None:
        await collection.insert_one({"_id": "A", VERSION: 1, "writer": None})
        views = [collection, replica_collection]
        everyone_has_read = asyncio.Barrier(WRITERS)

        async def writer(i: int) -> bool:
            doc = await views[i % 2].find_one({"_id": "A"})
            await everyone_has_read.wait()
            result = await views[i % 2].replace_one(
                {"_id": "A", VERSION: doc[VERSION]}, {VERSION: doc[VERSION] + 1, "writer": i}
            )
            return bool(result.matched_count == 1)

        won = await asyncio.gather(*(writer(i) for i in range(WRITERS)))
        assert won.count(True) == 1
        final = await collection.find_one({"_id": "A"})
        assert final == {"_id": "A", VERSION: 2, "writer": won.index(True)}

    async def test_writers_that_retry_a_version_checked_replace_lose_no_update(
        self, collection: Any, replica_collection: Any
    ) -> None:
        await collection.insert_one({"_id": "A", VERSION: 1, "writers": []})
        views = [collection, replica_collection]

        async def writer(i: int) -> None:
            for _ in range(10 * WRITERS):
                doc = await views[i % 2].find_one({"_id": "A"})
                result = await views[i % 2].replace_one(
                    {"_id": "A", VERSION: doc[VERSION]}, {VERSION: doc[VERSION] + 1, "writers": [*doc["writers"], i]}
                )
                if result.matched_count == 1:
                    return
            raise AssertionError(f"writer {i} never won")

        await asyncio.gather(*(writer(i) for i in range(WRITERS)))
        final = await collection.find_one({"_id": "A"})
        assert sorted(final["writers"]) == list(range(WRITERS))
        assert final[VERSION] == 1 + WRITERS

    async def test_inserting_an_existing_id_raises_duplicate_key_and_keeps_the_first(self, collection: Any) -> None:
        await collection.insert_one({"_id": "A", VERSION: 1, "n": 1})
        with pytest.raises(DuplicateKeyError):
            await collection.insert_one({"_id": "A", VERSION: 1, "n": 2})
        assert await collection.find_one({"_id": "A"}) == {"_id": "A", VERSION: 1, "n": 1}

    # ------------------------------------------------------------------ the store on it

    async def test_concurrent_changes_from_two_replicas_lose_no_update(self, stores: list[AggregateStore]) -> None:
        applied = await asyncio.gather(
            *(stores[i % 2].apply("A", add_one, event_id=f"e{i}") for i in range(WRITERS))
        )
        assert applied == [True] * WRITERS
        assert await stores[0].get("A") == {"count": WRITERS}
        doc = await stores[1].collection.find_one({"_id": "A"})
        assert sorted(doc[INBOX]) == sorted(f"e{i}" for i in range(WRITERS))
        assert doc[VERSION] == WRITERS  # created at 1, then one version per change

    async def test_racing_creations_of_one_aggregate_all_land(self, stores: list[AggregateStore]) -> None:
        # All but one insert loses to DuplicateKeyError and retries as an update.
        applied = await asyncio.gather(*(stores[i % 2].apply("new", add_one) for i in range(10)))
        assert applied == [True] * 10
        assert await stores[0].get("new") == {"count": 10}

    async def test_an_event_delivered_concurrently_to_two_replicas_is_applied_once(
        self, stores: list[AggregateStore]
    ) -> None:
        await stores[0].apply("A", add_one, event_id="first")
        applied = await asyncio.gather(*(stores[i % 2].apply("A", add_one, event_id="e1") for i in range(10)))
        assert applied.count(True) == 1
        assert await stores[1].get("A") == {"count": 2}

    async def test_a_redelivered_event_changes_nothing_and_is_not_decided_again(
        self, stores: list[AggregateStore]
    ) -> None:
        store = stores[0]
        assert await store.apply("A", add_one, event_id="e1") is True
        decided: list[dict[str, Any] | None] = []

        def record(state: dict[str, Any] | None) -> Change | None:
            decided.append(state)
            return None

        # An event that changes nothing is still remembered, so its replay is silent.
        assert await store.apply("A", record, event_id="e2") is True
        assert await store.apply("A", record, event_id="e2") is False
        assert await stores[1].apply("A", add_one, event_id="e1") is False
        assert decided == [{"count": 1}]
        assert await store.get("A") == {"count": 1}
        # Without an event id, a decision of "nothing" on a new aggregate writes nothing.
        assert await store.apply("B", lambda _state: None) is False
        assert await store.get("B") is None

    async def test_a_change_on_the_document_as_seen_needs_no_read_and_a_stale_one_is_read_again(
        self, stores: list[AggregateStore]
    ) -> None:
        mine, other = stores
        await mine.apply("A", add_one, event_id="e1")
        seen = await mine.collection.find_one({"_id": "A"})
        decided: list[dict[str, Any] | None] = []

        def add_one_noting(state: dict[str, Any] | None) -> Change:
            decided.append(state)
            return add_one(state)

        assert await mine.apply("A", add_one_noting, event_id="e2", seen=seen) is True
        assert decided == [{"count": 1}]

        # Someone writes after `seen` was read: the change on the stale view loses the version check and is
        # decided again on what is there now, so neither write is lost.
        stale = await mine.collection.find_one({"_id": "A"})
        await other.apply("A", add_one, event_id="e3")
        decided.clear()
        assert await mine.apply("A", add_one_noting, event_id="e4", seen=stale) is True
        assert decided == [{"count": 2}, {"count": 3}]
        assert await mine.get("A") == {"count": 4}
        doc = await other.collection.find_one({"_id": "A"})
        assert doc[INBOX] == ["e1", "e2", "e3", "e4"]

    async def test_queued_events_wait_in_the_outbox_until_cleared(self, stores: list[AggregateStore]) -> None:
        writer, relay = stores
        await writer.apply("A", lambda s: Change(state={"x": 1}, events=[entry("e1"), entry("e2")]))
        assert await writer.get("A") == {"x": 1}  # the bookkeeping never shows in the state
        pending = await relay.pending_outbox("A")
        assert pending is not None
        assert set(pending) == {"_id", VERSION, OUTBOX}
        assert [relay.published_form(raw).event_id for raw in pending[OUTBOX]] == ["e1", "e2"]

        # Queued after the relay read the outbox: clearing what it published keeps this one.
        await writer.apply("A", lambda s: Change(state={"x": 2}, events=[entry("e3")]), event_id="in-1")
        await relay.clear_published("A", {"e1", "e2"})
        pending = await relay.pending_outbox("A")
        assert pending is not None
        assert [raw["event_id"] for raw in pending[OUTBOX]] == ["e3"]
        assert await writer.get("A") == {"x": 2}

        await relay.clear_published("A", {"e3"})
        assert await relay.pending_outbox("A") is None
        doc = await writer.collection.find_one({"_id": "A"})
        assert doc[OUTBOX] == []
        assert doc[OUTBOX_PENDING] is False
        assert doc[INBOX] == ["in-1"]
        await relay.clear_published("gone", {"e1"})  # clearing a missing aggregate is harmless

    async def test_clearing_races_writers_without_losing_their_events(self, stores: list[AggregateStore]) -> None:
        writer, relay = stores
        await writer.apply("A", lambda s: Change(state={"n": 0}, events=[entry("e0")]))

        async def queue(i: int) -> None:
            await writer.apply("A", lambda s: Change(state={"n": s["n"] + 1}, events=[entry(f"e{i}")]), event_id=f"in{i}")

        await asyncio.gather(relay.clear_published("A", {"e0"}), *(queue(i) for i in range(1, 11)))
        pending = await relay.pending_outbox("A")
        assert pending is not None
        assert sorted(raw["event_id"] for raw in pending[OUTBOX]) == sorted(f"e{i}" for i in range(1, 11))
        assert await writer.get("A") == {"n": 10}

    async def test_the_pending_scan_finds_exactly_the_aggregates_with_queued_events(
        self, stores: list[AggregateStore]
    ) -> None:
        writer, relay = stores
        await relay.ensure_indexes()
        await writer.apply("quiet", lambda s: Change(state={"x": 1}))
        for name in ("A", "B"):
            await writer.apply(name, lambda s, n=name: Change(state={"x": 1}, events=[entry(f"{n}-1")]))
        found = {doc["_id"]: doc for doc in await relay.pending_outboxes()}
        assert set(found) == {"A", "B"}
        assert all(set(doc) == {"_id", VERSION, OUTBOX} for doc in found.values())
        assert [raw["event_id"] for raw in found["A"][OUTBOX]] == ["A-1"]

        await relay.clear_published("A", {"A-1"})
        assert [doc["_id"] for doc in await relay.pending_outboxes()] == ["B"]


    async def test_the_relay_clears_from_what_a_write_left_and_keeps_events_queued_since(
        self, stores: list[AggregateStore]
    ) -> None:
        writer, other = stores
        writer.on_events = lambda _aggregate_id: None  # a relay listens
        await writer.apply("A", lambda s: Change(state={"n": 1}, events=[entry("e1")]))
        left = writer.recent_write("A")
        assert left is not None
        assert writer.recent_write("A") is None  # handed over once
        stored = await writer.collection.find_one({"_id": "A"})
        assert left == {"_id": "A", VERSION: stored[VERSION], OUTBOX: stored[OUTBOX]}

        # Nobody wrote since: one version-checked write clears it.
        await writer.clear_published("A", {"e1"}, seen=left)
        assert await writer.pending_outbox("A") is None

        # Another replica queues an event after the relay's view was taken: it is kept.
        await writer.apply("A", lambda s: Change(state={"n": 2}, events=[entry("e2")]))
        stale = writer.recent_write("A")
        await other.apply("A", lambda s: Change(state={"n": 3}, events=[entry("e3")]))
        await writer.clear_published("A", {"e2"}, seen=stale)
        pending = await writer.pending_outbox("A")
        assert pending is not None
        assert [raw["event_id"] for raw in pending[OUTBOX]] == ["e3"]
        assert await writer.get("A") == {"n": 3}


def new_id() -> str:
    """A fresh name for a database or collection."""
    return f"contract_{uuid.uuid4().hex[:10]}"
