"""Stored aggregates carry their record version and are upcast when loaded (mash_runtime.upcasting, store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from mash_notify.store import upcast_delivery_v1_v2
from mash_runtime.memory_store import MemoryCollection, as_collection
from mash_runtime.store import RECORD_VERSION, AggregateStore, Change
from mash_runtime.upcasting import STORED_UPCASTERS, StoredUpcasters, UnknownRecordVersion

pytestmark = pytest.mark.unit

QUEUED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FAILED = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


def version_1_delivery() -> dict[str, Any]:
    """A delivery record as notify wrote it before the delivery log: the outcome only."""
    return {"_id": "N-1", "_version": 4, "_inbox": [], "_outbox": [], "_outbox_pending": False,
            "notification_id": "N-1", "referral_id": "MASH-1", "kind": "handoff", "channel": "email",
            "to": "assessment-team", "status": "failed", "attempts": 5, "queued_at": QUEUED, "failed_at": FAILED,
            "error": "SMTP 550 mailbox unavailable"}


async def test_a_version_1_delivery_is_upcast_by_the_example_upcaster_when_loaded() -> None:
    collection = MemoryCollection("deliveries")
    await as_collection(collection).insert_one(version_1_delivery())
    store = AggregateStore(as_collection(collection))

    state = await store.get("N-1")

    assert state is not None
    assert state["last_error"] == "SMTP 550 mailbox unavailable" and "error" not in state
    assert state["log"] == [{"at": QUEUED, "status": "queued", "reason": None},
                            {"at": FAILED, "status": "failed", "reason": "SMTP 550 mailbox unavailable"}]


async def test_every_save_stamps_the_current_record_version_and_the_upcast_state_is_what_is_written() -> None:
    collection = MemoryCollection("deliveries")
    await as_collection(collection).insert_one(version_1_delivery())
    store = AggregateStore(as_collection(collection))
    seen: list[dict[str, Any]] = []

    def resend(current: dict[str, Any] | None) -> Change:
        assert current is not None
        seen.append(current)
        return Change(state={**current, "status": "queued"})

    assert await store.apply("N-1", resend)

    assert "log" in seen[0]  # the decision ran on the upcast state
    stored = await as_collection(collection).find_one({"_id": "N-1"})
    assert stored is not None
    assert stored[RECORD_VERSION] == STORED_UPCASTERS.current_version("deliveries") == 2
    assert stored["last_error"] == "SMTP 550 mailbox unavailable" and "error" not in stored


async def test_a_kind_without_upcasters_is_stamped_version_1_and_read_as_it_is() -> None:
    store = AggregateStore(as_collection(MemoryCollection("contacts")))
    await store.apply("C-1", lambda _current: Change(state={"referral_id": "C-1"}))
    stored = await store.collection.find_one({"_id": "C-1"})
    assert stored is not None and stored[RECORD_VERSION] == 1
    assert await store.get("C-1") == {"referral_id": "C-1"}


async def test_a_document_of_a_newer_version_than_this_code_is_refused_not_rewritten() -> None:
    collection = MemoryCollection("deliveries")
    await as_collection(collection).insert_one({**version_1_delivery(), RECORD_VERSION: 3})
    store = AggregateStore(as_collection(collection))
    with pytest.raises(UnknownRecordVersion, match="record version 3"):
        await store.get("N-1")
    with pytest.raises(UnknownRecordVersion):
        await store.apply("N-1", lambda current: Change(state=current or {}))


def test_the_example_upcaster_leaves_a_version_2_delivery_as_it_is() -> None:
    current = {"status": "sent", "attempts": 1, "queued_at": QUEUED, "last_error": None,
               "log": [{"at": QUEUED, "status": "queued", "reason": None}]}
    assert upcast_delivery_v1_v2(dict(current)) == current


def test_a_kind_registry_chains_upcasters_and_refuses_a_second_for_one_version() -> None:
    upcasters = StoredUpcasters()
    upcasters.register("case_files", 1)(lambda state: {**state, "v2": True})
    upcasters.register("case_files", 2)(lambda state: {**state, "v3": True})
    assert upcasters.current_version("case_files") == 3
    assert upcasters.upcast("case_files", {}, 1) == {"v2": True, "v3": True}
    with pytest.raises(ValueError, match="already registered"):
        upcasters.register("case_files", 1)(lambda state: state)
