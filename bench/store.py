"""The bare store: plain PyMongo (async) against the same MongoDB server as the hub, in the same run.

The hub's second floor beside the bare transport. The writes are the shapes the hub's store makes
(mash_runtime.store): single inserts (a new aggregate, an audit line), conditional updates (`update_one`
filtered on `_id` and a version, as every version-checked write is) and `bulk_write` of the sizes intake's
register import sends (`ReplaceOne(..., upsert=True)`, unordered). One operation at a time, each awaited,
as a handler does: per-operation latency, operations (or documents) a second, and this process's CPU per
operation. No validation, no outbox, no handler: what the server and its Python driver cost.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient, ReplaceOne

from bench.measure import Progress, percentile


@dataclass
class StoreOp:
    """What one kind of plain PyMongo operation did, `count` times one after another."""

    name: str
    count: int  # operations
    documents: int  # documents written by each operation (1, or a bulk_write's size)
    seconds: float
    cpu_seconds: float  # of this process, over the same span
    latencies: list[float]  # of each operation, seconds

    @property
    def per_second(self) -> float:
        """Operations a second."""
        return self.count / self.seconds

    @property
    def cpu_ms_per_op(self) -> float:
        """Client CPU per operation, milliseconds."""
        return self.cpu_seconds * 1000 / self.count

    def latency_ms(self, fraction: float) -> float:
        """A percentile of one operation's latency, milliseconds."""
        return percentile(self.latencies, fraction) * 1000


async def _timed(name: str, count: int, documents: int, operation: Any, progress: Progress) -> StoreOp:
    latencies: list[float] = []
    cpu_before = time.process_time()
    started = time.perf_counter()
    for n in range(count):
        began = time.perf_counter()
        await operation(n)
        latencies.append(time.perf_counter() - began)
        progress.update(n + 1)
    seconds = time.perf_counter() - started
    return StoreOp(name=name, count=count, documents=documents, seconds=seconds,
                   cpu_seconds=time.process_time() - cpu_before, latencies=latencies)


async def measure_store(
    mongo_url: str, *, ops: int, size: int, bulk_sizes: list[int], progress: Progress
) -> list[StoreOp]:
    """Insert `ops` documents of about `size` bytes, update each once on its version, then bulk-write."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    database = client[f"bench-store-{uuid.uuid4().hex[:8]}"]
    collection = database["aggregates"]
    body = "x" * max(1, size - 60)  # the rest of the document (_id, version) is about 60 bytes of BSON
    try:
        await database.command("ping")  # connect before the clock starts
        results: list[StoreOp] = []
        progress.stage(f"bare store: {ops} insert_one", ops)
        results.append(await _timed("insert_one", ops, 1, lambda n: collection.insert_one(
            {"_id": f"agg-{n}", "_version": 1, "body": body}), progress))

        async def update(n: int) -> None:
            result = await collection.update_one({"_id": f"agg-{n}", "_version": 1},
                                                 {"$set": {"_version": 2, "body": body}})
            assert result.matched_count == 1
        progress.stage(f"bare store: {ops} update_one on a version", ops)
        results.append(await _timed("update_one on a version", ops, 1, update, progress))

        register = database["register"]
        for documents in bulk_sizes:
            rounds = max(3, min(ops, 2000 // documents))
            progress.stage(f"bare store: {rounds} bulk_write of {documents}", rounds)
            results.append(await _timed(f"bulk_write of {documents}", rounds, documents, lambda n, d=documents:
                           register.bulk_write([ReplaceOne({"_id": f"person-{i}"}, {"round": n, "body": body},
                                                           upsert=True) for i in range(d)], ordered=False),
                           progress))
        return results
    finally:
        await client.drop_database(database.name)
        await client.close()
