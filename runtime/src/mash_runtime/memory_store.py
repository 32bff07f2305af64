"""An in-memory stand-in for the MongoDB collection behind an AggregateStore, for unit tests.

`MemoryCollection` implements only what `AggregateStore` uses, with MongoDB's semantics for it:
`find_one`, `find` (async iteration only), `insert_one`, `replace_one`, `update_one` with `$set`, and
`create_index`. Filters are equality on top-level fields; projections include fields (`_id` always
comes back). Anything else raises NotImplementedError rather than guessing.

Each operation is atomic, as a single-document write is on MongoDB, and yields to the event loop
before it runs, so that concurrent writers interleave between their read and their write as they do
over a network. Documents are copied in and out, as BSON would. The store contract suite
(tests/support/store_contract.py) runs on this fake and on the real server alike.

    store = memory_store()            # an AggregateStore on a fresh MemoryCollection
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from pymongo.errors import DuplicateKeyError
from pymongo.results import InsertOneResult, UpdateResult

from mash_runtime.store import AggregateStore

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection

    from mash_runtime.sealing import AtRestCipher

Document = dict[str, Any]


def _unsupported(what: str) -> NotImplementedError:
    return NotImplementedError(f"MemoryCollection does not implement {what} (only what AggregateStore uses)")


def _matches(doc: Document, flt: Mapping[str, Any] | None) -> bool:
    for key, want in (flt or {}).items():
        if key.startswith("$") or "." in key:
            raise _unsupported(f"the filter key {key!r}")
        if isinstance(want, Mapping) and any(str(k).startswith("$") for k in want):
            raise _unsupported(f"the query operator in {key!r}: {dict(want)!r}")
        if key not in doc or doc[key] != want:
            return False
    return True


def _projected(doc: Document, projection: Mapping[str, Any] | None) -> Document:
    if not projection:
        return copy.deepcopy(doc)
    if any(not value for key, value in projection.items() if key != "_id"):
        raise _unsupported(f"the exclusion projection {dict(projection)!r}")
    keep = {k for k, value in projection.items() if value} | ({"_id"} if projection.get("_id", 1) else set())
    return copy.deepcopy({k: v for k, v in doc.items() if k in keep})


def _replacement(replacement: Mapping[str, Any]) -> Document:
    if any(str(k).startswith("$") for k in replacement):
        raise ValueError("replacement can not include $ operators")
    return copy.deepcopy(dict(replacement))


class MemoryCursor:
    """The result of `find`: iterate it with `async for`."""

    def __init__(self, collection: MemoryCollection, flt: Mapping[str, Any] | None, projection: Any) -> None:
        self._collection = collection
        self._filter = flt
        self._projection = projection

    def __aiter__(self) -> AsyncIterator[Document]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Document]:
        await asyncio.sleep(0)
        # A snapshot at the first batch: MongoDB's cursor isolation is no stronger than this.
        found = [
            _projected(doc, self._projection)
            for doc in self._collection.documents.values()
            if _matches(doc, self._filter)
        ]
        for doc in found:
            yield doc


class MemoryCollection:
    """The subset of pymongo's AsyncCollection that AggregateStore uses, in memory."""

    def __init__(self, name: str = "aggregates") -> None:
        self.name = name
        self.documents: dict[Any, Document] = {}  # by _id, in insertion order (MongoDB's natural order)
        self.indexes: list[Any] = []

    async def find_one(
        self, filter: Mapping[str, Any] | None = None, projection: Any = None, *args: Any, **kwargs: Any
    ) -> Document | None:
        """The first matching document (projected), or None."""
        if args or kwargs:
            raise _unsupported(f"find_one options {args!r} {kwargs!r}")
        await asyncio.sleep(0)
        for doc in self.documents.values():
            if _matches(doc, filter):
                return _projected(doc, projection)
        return None

    def find(
        self, filter: Mapping[str, Any] | None = None, projection: Any = None, *args: Any, **kwargs: Any
    ) -> MemoryCursor:
        """A cursor over the matching documents (projected)."""
        if args or kwargs:
            raise _unsupported(f"find options {args!r} {kwargs!r}")
        return MemoryCursor(self, filter, projection)

    async def insert_one(self, document: Mapping[str, Any], *args: Any, **kwargs: Any) -> InsertOneResult:
        """Insert one document; DuplicateKeyError (code 11000) if its _id is taken."""
        if args or kwargs:
            raise _unsupported(f"insert_one options {args!r} {kwargs!r}")
        await asyncio.sleep(0)
        if "_id" not in document:
            raise _unsupported("insert_one without an _id")
        if document["_id"] in self.documents:
            key = document["_id"]
            raise DuplicateKeyError(
                f"E11000 duplicate key error collection: {self.name} index: _id_ dup key: {{ _id: {key!r} }}",
                11000,
                {"code": 11000, "keyValue": {"_id": key}},
            )
        self.documents[document["_id"]] = copy.deepcopy(dict(document))
        return InsertOneResult(document["_id"], acknowledged=True)

    async def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool = False, *args: Any, **kwargs: Any
    ) -> UpdateResult:
        """Replace the first matching document, keeping its _id (no upsert)."""
        if upsert or args or kwargs:
            raise _unsupported("replace_one options")
        new = _replacement(replacement)
        await asyncio.sleep(0)
        new.pop("_id", None)
        return self._write_first(filter, lambda old: {"_id": old["_id"], **new})

    async def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False, *args: Any, **kwargs: Any
    ) -> UpdateResult:
        """Apply a `$set` to the first matching document (no upsert)."""
        if upsert or args or kwargs:
            raise _unsupported("update_one options")
        if set(update) != {"$set"}:
            raise _unsupported(f"the update {dict(update)!r} (only $set)")
        changes = copy.deepcopy(dict(update["$set"]))
        if "_id" in changes or any("." in str(k) or str(k).startswith("$") for k in changes):
            raise _unsupported(f"$set of {sorted(changes)!r}")
        await asyncio.sleep(0)
        return self._write_first(filter, lambda old: {**old, **changes})

    def _write_first(self, flt: Mapping[str, Any], make: Callable[[Document], Document]) -> UpdateResult:
        # No await from here to the write: the match and the write are one step, as on MongoDB.
        for key, doc in self.documents.items():
            if _matches(doc, flt):
                new = make(doc)
                self.documents[key] = new
                return UpdateResult({"n": 1, "nModified": int(new != doc), "ok": 1.0}, acknowledged=True)
        return UpdateResult({"n": 0, "nModified": 0, "ok": 1.0}, acknowledged=True)

    async def create_index(self, keys: Any, *args: Any, **kwargs: Any) -> str:
        """Record the index (it changes nothing here) and return its name.

        A unique index is accepted only when it includes `_id`, which makes it unique already.
        """
        fields = [keys] if isinstance(keys, str) else [field for field, _ in keys]
        if kwargs.get("unique") and "_id" not in fields:
            raise _unsupported("unique secondary indexes without _id")
        self.indexes.append(keys)
        if "name" in kwargs:
            return str(kwargs["name"])
        if isinstance(keys, str):
            return f"{keys}_1"
        return "_".join(f"{field}_{direction}" for field, direction in keys)


def as_collection(collection: MemoryCollection) -> AsyncCollection[Document]:
    """The fake typed as what AggregateStore takes (it implements only the methods the store uses)."""
    return cast("AsyncCollection[Document]", collection)


def memory_store(
    collection: MemoryCollection | None = None,
    on_events: Callable[[str], None] | None = None,
    cipher: AtRestCipher | None = None,
) -> AggregateStore:
    """An AggregateStore on `collection` (a fresh MemoryCollection by default)."""
    return AggregateStore(as_collection(collection or MemoryCollection()), on_events=on_events, cipher=cipher)
