"""A consumed batch's store round trips, gathered: its reads as one query, its writes as one bulk write.

A batch subscriber (mash_runtime.consuming, `MASH_CONSUMER_BATCH` above 1) runs the records of each
referral (each key) as one task, in offset order, and the keys side by side. The handlers are the
per-event handlers of the one-record path, unchanged: what changes is underneath, in
`AggregateStore.apply`, which asks the batch it runs in (a context variable) instead of the collection:

- **reads**: the aggregates the batch's tasks ask for are read with one `find({"_id": {"$in": ids}})` per
  collection, instead of a `find_one` each; the document carries its inbox, so this one query is also what
  tells which events of the batch were already applied;
- **writes**: the version-checked writes they make go as one `bulk_write(ordered=False)` per collection, of
  `InsertOne` (a new aggregate) and `ReplaceOne` filtered on `_id` and the version read.

A gathering is sent when every task of the batch is waiting on it, or `FLUSH_AFTER` after its first
request if some task is busy elsewhere (an HTTP call, a collection that is not an aggregate store), so that
nothing waits on a task that will not come.

`BulkWriteResult` gives counts, not which operation matched nothing. When the replaces matched fewer than
were sent, the written aggregates are read again (their inbox and version): a replace whose event is in its
aggregate's inbox was applied; one whose event is not lost to another writer and is reported as a conflict,
so that `apply` falls back to the one-by-one path for that record (a fresh read, a pause, its own write). An
insert refused on its `_id` (another writer created the aggregate) is a conflict in the same way. Only writes
that mark an event are gathered (an `event_id`): that mark is what tells a lost write from a won one. An
insert needs no mark (the bulk write's error names it), which is what the front door's group commit uses:
requests arriving together join one open-ended gathering (`joined`), sent `flush_after` after its first
write or when `most` have joined, so contacts arriving together are inserted with one bulk write and each
request is answered once its own contact (and the outbox entry in it) is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import math
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

T = TypeVar("T")
Collection = AsyncCollection[dict[str, Any]]

FLUSH_AFTER = 0.002  # seconds a gathering waits for a task that is busy elsewhere
DUPLICATE_KEY = 11000
INBOX = "_inbox"  # as mash_runtime.store (which imports this module)
VERSION = "_version"

_CURRENT: contextvars.ContextVar[StoreBatch | None] = contextvars.ContextVar("mash_store_batch", default=None)


def current() -> StoreBatch | None:
    """The batch the running task belongs to, if any."""
    return _CURRENT.get()


@dataclass
class _Load:
    aggregate_id: str
    done: asyncio.Future[dict[str, Any] | None]


@dataclass
class _Write:
    aggregate_id: str
    operation: InsertOne[dict[str, Any]] | ReplaceOne[dict[str, Any]]
    event_id: str | None
    done: asyncio.Future[bool]


@dataclass
class _Gathering:
    """What the batch's tasks asked of one collection since the last flush."""

    collection: Collection
    loads: list[_Load] = field(default_factory=list)
    writes: list[_Write] = field(default_factory=list)


class StoreBatch:
    """Gathers the store requests of one consumed batch's tasks; see the module's docstring."""

    def __init__(self, flush_after: float = FLUSH_AFTER, *, most: int | None = None) -> None:
        self._flush_after = flush_after
        # Tasks of the batch still running (`run`); a gathering that tasks join as they come (`joined`, a front
        # door's group commit) has no end: it is sent `flush_after` after its first request, or at `most`.
        self._live: float = math.inf if most is not None else 0
        self._most = most
        self._requests = 0  # gathered and not yet sent
        self._pending: dict[int, _Gathering] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self.round_trips = 0  # queries and bulk writes sent (tests and the benchmark read it)

    async def run(self, work: Sequence[Callable[[], Awaitable[T]]]) -> list[T | BaseException]:
        """Run each piece of work as a task of this batch; their outcomes (or exceptions), in order."""
        self._live = len(work)

        async def member(each: Callable[[], Awaitable[T]]) -> T:
            _CURRENT.set(self)  # in this task's own context only
            try:
                return await each()
            finally:
                self._live -= 1
                self._consider()

        return await asyncio.gather(*(member(each) for each in work), return_exceptions=True)

    @contextlib.contextmanager
    def joined(self) -> Iterator[None]:
        """The running task's aggregate writes, while in this block, go with whoever else joined meanwhile."""
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    async def load(self, collection: Collection, aggregate_id: str) -> dict[str, Any] | None:
        """The aggregate's document (or None), read together with the batch's other reads."""
        done: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._gathering(collection).loads.append(_Load(aggregate_id, done))
        return await self._wait(done)

    async def write(
        self, collection: Collection, aggregate_id: str,
        operation: InsertOne[dict[str, Any]] | ReplaceOne[dict[str, Any]], event_id: str | None,
    ) -> bool:
        """Send the write with the batch's others: True if it was stored, False if another writer won.

        A replace needs the `event_id` it marks (see the module's docstring); an insert does not.
        """
        if event_id is None and isinstance(operation, ReplaceOne):
            raise ValueError("a gathered replace must mark an event, or a lost race could not be told")
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._gathering(collection).writes.append(_Write(aggregate_id, operation, event_id, done))
        return await self._wait(done)

    def _gathering(self, collection: Collection) -> _Gathering:
        return self._pending.setdefault(id(collection), _Gathering(collection))

    async def _wait(self, done: asyncio.Future[T]) -> T:
        self._requests += 1
        self._consider()
        return await done

    def _consider(self) -> None:
        """Flush now if every live task waits on this gathering; otherwise soon, if anything waits at all."""
        if not self._pending:
            return
        if self._requests >= min(self._live, self._most or math.inf):
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._flush_after, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending, self._requests = self._pending, {}, 0
        for gathering in pending.values():
            task = asyncio.get_running_loop().create_task(_send(gathering, self))
            self._flushes.add(task)  # keep a reference until it ends
            task.add_done_callback(self._flushes.discard)


async def _send(gathering: _Gathering, batch: StoreBatch) -> None:
    """One collection's gathered reads, then its gathered writes; every waiter gets an answer or an error."""
    waiters: list[asyncio.Future[Any]] = [*(each.done for each in gathering.loads),
                                          *(each.done for each in gathering.writes)]
    try:
        if gathering.loads:
            await _read(gathering.collection, gathering.loads, batch)
        if gathering.writes:
            await _write(gathering.collection, gathering.writes, batch)
    except Exception as exc:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(exc)


async def _read(collection: Collection, loads: list[_Load], batch: StoreBatch) -> None:
    ids = list(dict.fromkeys(each.aggregate_id for each in loads))
    batch.round_trips += 1
    found = {doc["_id"]: doc async for doc in collection.find({"_id": {"$in": ids}})}
    given: set[str] = set()
    for each in loads:
        doc = found.get(each.aggregate_id)
        # Two tasks reading one aggregate each get their own copy, as two reads would.
        each.done.set_result(copy.deepcopy(doc) if doc is not None and each.aggregate_id in given else doc)
        given.add(each.aggregate_id)


async def _write(collection: Collection, writes: list[_Write], batch: StoreBatch) -> None:
    refused: set[int] = set()
    batch.round_trips += 1
    try:
        result = await collection.bulk_write([each.operation for each in writes], ordered=False)
        matched = result.matched_count
    except BulkWriteError as exc:
        details = exc.details
        for error in details.get("writeErrors", []):
            if error.get("code") != DUPLICATE_KEY:
                raise
            refused.add(int(error["index"]))
        matched = int(details.get("nMatched", 0))
    replaces = [n for n, each in enumerate(writes) if isinstance(each.operation, ReplaceOne)]
    lost: set[int] = set()
    if matched < len(replaces):
        ids = list(dict.fromkeys(writes[n].aggregate_id for n in replaces))
        batch.round_trips += 1
        marks = {doc["_id"]: doc.get(INBOX, [])
                 async for doc in collection.find({"_id": {"$in": ids}}, {INBOX: 1, VERSION: 1})}
        lost = {n for n in replaces if writes[n].event_id not in marks.get(writes[n].aggregate_id, [])}
    for n, each in enumerate(writes):
        each.done.set_result(n not in refused and n not in lost)
