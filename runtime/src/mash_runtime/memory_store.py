"""An in-memory stand-in for the hub's MongoDB databases, for unit tests and in-memory service runs.

`MemoryDatabase` hands out `MemoryCollection`s by name, as `AsyncDatabase[...]` does, and answers `ping`,
so a service's composition root (its `bootstrap`) can be given one instead of a server. A collection
implements the subset of pymongo's AsyncCollection that the hub's code uses, with MongoDB's semantics
for it:

- `find_one`, `find` (a cursor with `sort`, `limit`, `to_list` and async iteration), `count_documents`;
- `insert_one`, `replace_one`, `update_one`, `update_many` (`$set`, `$inc`, `$unset`; `upsert`),
  `delete_one`, `delete_many`, `bulk_write` of `InsertOne`/`ReplaceOne`/`UpdateOne`/`DeleteOne`;
- filters: equality (an array field matches if any element does), dotted paths, `$in`, `$nin`, `$eq`,
  `$ne`, `$lt`, `$lte`, `$gt`, `$gte`, `$exists`, `$or`, `$and`; inclusion projections;
- `create_index`, with `unique` enforced on every later write.

Anything else raises NotImplementedError rather than guessing: a fake that quietly does something
else than the server would make a unit test pass that the real stack fails.

Each operation is atomic, as a single-document write is on MongoDB, and yields to the event loop
before it runs, so that concurrent writers interleave between their read and their write as they do
over a network. Documents are copied in and out, as BSON would. The store contract suite
(tests/support/store_contract.py) runs on this fake and on the real server alike.

    store = memory_store()            # an AggregateStore on a fresh MemoryCollection
    db = MemoryDatabase("decision")   # what a service's bootstrap takes instead of a server's database
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from bson import ObjectId
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.results import BulkWriteResult, DeleteResult, InsertOneResult, UpdateResult

from mash_runtime.store import AggregateStore

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection
    from pymongo.asynchronous.database import AsyncDatabase

    from mash_runtime.sealing import AtRestCipher

Document = dict[str, Any]
_MISSING = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": lambda have, want: have < want,
    "$lte": lambda have, want: have <= want,
    "$gt": lambda have, want: have > want,
    "$gte": lambda have, want: have >= want,
}


def _unsupported(what: str) -> NotImplementedError:
    return NotImplementedError(f"MemoryCollection does not implement {what} (only what the hub's code uses)")


def _lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path, or _MISSING; a list on the way is searched element by element."""
    here: Any = doc
    for part in path.split("."):
        if isinstance(here, Mapping):
            here = here.get(part, _MISSING)
        elif isinstance(here, list) and part.isdigit() and int(part) < len(here):
            here = here[int(part)]
        else:
            return _MISSING
        if here is _MISSING:
            return _MISSING
    return here


def _candidates(value: Any) -> list[Any]:
    """What a condition is tested against: the value, and each element if it is an array (MongoDB's rule)."""
    if value is _MISSING:
        return []
    return [value, *value] if isinstance(value, list) else [value]


def _comparable(have: Any, want: Any) -> bool:
    try:
        have < want  # noqa: B015 - only asks whether the two types order at all
    except TypeError:
        return False
    return True


def _condition_holds(value: Any, condition: Any) -> bool:
    if not (isinstance(condition, Mapping) and any(str(k).startswith("$") for k in condition)):
        return any(candidate == condition for candidate in _candidates(value)) or (
            condition is None and value is _MISSING)
    for operator, operand in condition.items():
        if operator == "$eq":
            held = _condition_holds(value, operand)
        elif operator == "$ne":
            held = not _condition_holds(value, operand)
        elif operator == "$in":
            held = any(_condition_holds(value, option) for option in operand)
        elif operator == "$nin":
            held = not any(_condition_holds(value, option) for option in operand)
        elif operator == "$exists":
            held = (value is not _MISSING) == bool(operand)
        elif operator in _COMPARISONS:
            compare = _COMPARISONS[operator]
            held = any(_comparable(c, operand) and compare(c, operand) for c in _candidates(value))
        else:
            raise _unsupported(f"the query operator {operator!r}")
        if not held:
            return False
    return True


def _matches(doc: Document, flt: Mapping[str, Any] | None) -> bool:
    for key, want in (flt or {}).items():
        if key == "$or":
            if not any(_matches(doc, branch) for branch in want):
                return False
        elif key == "$and":
            if not all(_matches(doc, branch) for branch in want):
                return False
        elif key.startswith("$"):
            raise _unsupported(f"the top-level operator {key!r}")
        elif not _condition_holds(_lookup(doc, key), want):
            return False
    return True


def _projected(doc: Document, projection: Mapping[str, Any] | None) -> Document:
    if not projection:
        return copy.deepcopy(doc)
    if any(not value for key, value in projection.items() if key != "_id"):
        raise _unsupported(f"the exclusion projection {dict(projection)!r}")
    if any("." in key for key in projection):
        raise _unsupported(f"the dotted projection {dict(projection)!r}")
    keep = {k for k, value in projection.items() if value} | ({"_id"} if projection.get("_id", 1) else set())
    return copy.deepcopy({k: v for k, v in doc.items() if k in keep})


def _replacement(replacement: Mapping[str, Any]) -> Document:
    if any(str(k).startswith("$") for k in replacement):
        raise ValueError("replacement can not include $ operators")
    return copy.deepcopy(dict(replacement))


def _set_path(doc: Document, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    here = doc
    for part in parents:
        nxt = here.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise _unsupported(f"a dotted update through a non-document at {path!r}")
        here = nxt
    here[last] = value


def _unset_path(doc: Document, path: str) -> None:
    *parents, last = path.split(".")
    here: Any = doc
    for part in parents:
        here = here.get(part) if isinstance(here, dict) else None
    if isinstance(here, dict):
        here.pop(last, None)


def _updated(doc: Document, update: Mapping[str, Any]) -> Document:
    """`doc` with the update operators applied (a new document; `doc` is left as it was)."""
    if not update or any(not str(k).startswith("$") for k in update):
        raise ValueError("update only works with $ operators")
    new = copy.deepcopy(doc)
    for operator, fields in update.items():
        for path, value in copy.deepcopy(dict(fields)).items():
            if path == "_id":
                raise _unsupported("an update of _id")
            if operator == "$set":
                _set_path(new, path, value)
            elif operator == "$inc":
                current = _lookup(new, path)
                _set_path(new, path, (0 if current is _MISSING else current) + value)
            elif operator == "$unset":
                _unset_path(new, path)
            else:
                raise _unsupported(f"the update operator {operator!r}")
    return new


def _seed(flt: Mapping[str, Any]) -> Document:
    """What an upsert's new document takes from its filter: the plain equality fields."""
    return {k: copy.deepcopy(v) for k, v in flt.items()
            if not k.startswith("$") and "." not in k
            and not (isinstance(v, Mapping) and any(str(op).startswith("$") for op in v))}


def _sort_key(field: str, direction: int) -> Callable[[Document], Any]:
    def key(doc: Document) -> Any:
        value = _lookup(doc, field)
        # Missing sorts first ascending (MongoDB orders null/missing before every other value).
        return (0, 0) if value is _MISSING or value is None else (1, value)
    return key


class MemoryCursor:
    """The result of `find`: chain `sort`/`limit`, then iterate with `async for` or call `to_list`."""

    def __init__(self, collection: MemoryCollection, flt: Mapping[str, Any] | None, projection: Any) -> None:
        self._collection = collection
        self._filter = flt
        self._projection = projection
        self._sort: list[tuple[str, int]] = []
        self._limit = 0

    def sort(self, key: str | Sequence[tuple[str, int]], direction: int = 1) -> MemoryCursor:
        """Order by `key` (or a list of (key, direction)), as pymongo's cursor does."""
        self._sort = [(key, direction)] if isinstance(key, str) else list(key)
        return self

    def limit(self, limit: int) -> MemoryCursor:
        """At most `limit` documents (0: no limit)."""
        self._limit = limit
        return self

    def __aiter__(self) -> AsyncIterator[Document]:
        return self._iterate()

    async def to_list(self, length: int | None = None) -> list[Document]:
        """Every document (at most `length`), as pymongo's `to_list`."""
        found = [doc async for doc in self]
        return found if length is None else found[:length]

    async def _iterate(self) -> AsyncIterator[Document]:
        await asyncio.sleep(0)
        # A snapshot at the first batch: MongoDB's cursor isolation is no stronger than this.
        found = [doc for doc in self._collection.documents.values() if _matches(doc, self._filter)]
        for field, direction in reversed(self._sort):
            found.sort(key=_sort_key(field, direction), reverse=direction < 0)
        if self._limit:
            found = found[: self._limit]
        for doc in [_projected(d, self._projection) for d in found]:
            yield doc


class MemoryCollection:
    """The subset of pymongo's AsyncCollection that the hub uses, in memory."""

    def __init__(self, name: str = "aggregates") -> None:
        self.name = name
        self.documents: dict[Any, Document] = {}  # by _id, in insertion order (MongoDB's natural order)
        self.indexes: list[Any] = []
        self._unique: list[tuple[str, ...]] = []

    @staticmethod
    def _no_options(what: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        extra = {k: v for k, v in kwargs.items() if k not in ("session", "ordered")}
        if args or extra:
            raise _unsupported(f"{what} options {args!r} {extra!r}")

    async def find_one(
        self, filter: Mapping[str, Any] | None = None, projection: Any = None, *args: Any, **kwargs: Any
    ) -> Document | None:
        """The first matching document (projected), or None."""
        self._no_options("find_one", args, kwargs)
        await asyncio.sleep(0)
        for doc in self.documents.values():
            if _matches(doc, filter):
                return _projected(doc, projection)
        return None

    def find(
        self, filter: Mapping[str, Any] | None = None, projection: Any = None, *args: Any, **kwargs: Any
    ) -> MemoryCursor:
        """A cursor over the matching documents (projected)."""
        self._no_options("find", args, kwargs)
        return MemoryCursor(self, filter, projection)

    async def count_documents(self, filter: Mapping[str, Any], *args: Any, **kwargs: Any) -> int:
        """How many documents match."""
        self._no_options("count_documents", args, kwargs)
        await asyncio.sleep(0)
        return sum(1 for doc in self.documents.values() if _matches(doc, filter))

    async def insert_one(self, document: Mapping[str, Any], *args: Any, **kwargs: Any) -> InsertOneResult:
        """Insert one document; DuplicateKeyError (code 11000) if its _id (or a unique key) is taken."""
        self._no_options("insert_one", args, kwargs)
        await asyncio.sleep(0)
        return self._insert(document)

    def _insert(self, document: Mapping[str, Any]) -> InsertOneResult:
        new = copy.deepcopy(dict(document))
        new.setdefault("_id", ObjectId())
        if new["_id"] in self.documents:
            raise self._duplicate("_id_", {"_id": new["_id"]})
        self._check_unique(new, None)
        self.documents[new["_id"]] = new
        return InsertOneResult(new["_id"], acknowledged=True)

    async def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool = False, *args: Any,
        **kwargs: Any,
    ) -> UpdateResult:
        """Replace the first matching document, keeping its _id; insert when `upsert` and none matches."""
        self._no_options("replace_one", args, kwargs)
        new = _replacement(replacement)
        await asyncio.sleep(0)
        new.pop("_id", None)
        return self._write(filter, lambda old: {"_id": old["_id"], **new}, upsert=upsert,
                           seed=lambda: {**_seed(filter), **new}, many=False)

    async def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False, *args: Any,
        **kwargs: Any,
    ) -> UpdateResult:
        """Apply the update operators to the first matching document (or upsert one)."""
        self._no_options("update_one", args, kwargs)
        _updated({}, update)  # refuses an unsupported operator before anything changes
        await asyncio.sleep(0)
        return self._write(filter, lambda old: _updated(old, update), upsert=upsert,
                           seed=lambda: _updated(_seed(filter), update), many=False)

    async def update_many(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False, *args: Any,
        **kwargs: Any,
    ) -> UpdateResult:
        """Apply the update operators to every matching document."""
        self._no_options("update_many", args, kwargs)
        _updated({}, update)
        await asyncio.sleep(0)
        return self._write(filter, lambda old: _updated(old, update), upsert=upsert,
                           seed=lambda: _updated(_seed(filter), update), many=True)

    async def delete_one(self, filter: Mapping[str, Any], *args: Any, **kwargs: Any) -> DeleteResult:
        """Delete the first matching document."""
        self._no_options("delete_one", args, kwargs)
        await asyncio.sleep(0)
        return self._delete(filter, many=False)

    async def delete_many(self, filter: Mapping[str, Any], *args: Any, **kwargs: Any) -> DeleteResult:
        """Delete every matching document."""
        self._no_options("delete_many", args, kwargs)
        await asyncio.sleep(0)
        return self._delete(filter, many=True)

    async def bulk_write(self, requests: Iterable[Any], *args: Any, **kwargs: Any) -> BulkWriteResult:
        """Apply InsertOne/ReplaceOne/UpdateOne/DeleteOne in order (each atomic, the batch not).

        As on MongoDB, a write refused on a unique key is reported in a BulkWriteError (its `writeErrors`
        name the operation's index and code 11000, beside the counts of what was done); `ordered=False`
        goes on past it, the default stops there.
        """
        self._no_options("bulk_write", args, kwargs)
        ordered = bool(kwargs.get("ordered", True))
        await asyncio.sleep(0)
        counts: dict[str, Any] = {"nInserted": 0, "nMatched": 0, "nModified": 0, "nRemoved": 0, "nUpserted": 0}
        errors: list[dict[str, Any]] = []
        for index, request in enumerate(requests):
            try:
                if isinstance(request, InsertOne):
                    self._insert(request._doc)
                    counts["nInserted"] += 1
                    continue
                if isinstance(request, DeleteOne):
                    counts["nRemoved"] += self._delete(request._filter, many=False).deleted_count
                    continue
                result = self._bulk_one(request)
            except DuplicateKeyError as exc:
                errors.append({"index": index, "code": exc.code, "errmsg": str(exc)})
                if ordered:
                    break
                continue
            counts["nMatched"] += result.matched_count
            counts["nModified"] += result.modified_count
            counts["nUpserted"] += int(result.upserted_id is not None)
        if errors:
            raise BulkWriteError({**counts, "writeErrors": errors, "writeConcernErrors": [], "upserted": []})
        return BulkWriteResult(counts, acknowledged=True)

    def _bulk_one(self, request: Any) -> UpdateResult:
        flt: Mapping[str, Any] = request._filter
        upsert = bool(request._upsert)
        if isinstance(request, ReplaceOne):
            body = _replacement(request._doc)
            body.pop("_id", None)

            def replaced(old: Document) -> Document:
                return {"_id": old["_id"], **body}

            return self._write(flt, replaced, upsert=upsert, seed=lambda: {**_seed(flt), **body}, many=False)
        if isinstance(request, UpdateOne):
            change = cast("Mapping[str, Any]", request._doc)

            def changed(old: Document) -> Document:
                return _updated(old, change)

            return self._write(flt, changed, upsert=upsert, seed=lambda: _updated(_seed(flt), change), many=False)
        raise _unsupported(f"the bulk request {type(request).__name__}")

    def _write(self, flt: Mapping[str, Any], make: Callable[[Document], Document], *, upsert: bool,
               seed: Callable[[], Document], many: bool) -> UpdateResult:
        # No await from here to the write: the match and the write are one step, as on MongoDB.
        matched = modified = 0
        for key, doc in list(self.documents.items()):
            if not _matches(doc, flt):
                continue
            new = make(doc)
            self._check_unique(new, key)
            self.documents[key] = new
            matched += 1
            modified += int(new != doc)
            if not many:
                break
        if matched or not upsert:
            return UpdateResult({"n": matched, "nModified": modified, "ok": 1.0}, acknowledged=True)
        inserted = self._insert(seed())
        return UpdateResult({"n": 1, "nModified": 0, "upserted": inserted.inserted_id, "ok": 1.0},
                            acknowledged=True)

    def _delete(self, flt: Mapping[str, Any], *, many: bool) -> DeleteResult:
        gone = [key for key, doc in self.documents.items() if _matches(doc, flt)]
        for key in gone if many else gone[:1]:
            del self.documents[key]
        return DeleteResult({"n": len(gone) if many else min(1, len(gone)), "ok": 1.0}, acknowledged=True)

    def _check_unique(self, new: Document, own_key: Any) -> None:
        for fields in self._unique:
            values = tuple(_lookup(new, f) for f in fields)
            if all(v is _MISSING for v in values):
                continue
            for key, doc in self.documents.items():
                if key != own_key and tuple(_lookup(doc, f) for f in fields) == values:
                    raise self._duplicate("_".join(fields), dict(zip(fields, values, strict=True)))

    def _duplicate(self, index: str, key_value: dict[str, Any]) -> DuplicateKeyError:
        return DuplicateKeyError(
            f"E11000 duplicate key error collection: {self.name} index: {index} dup key: {key_value!r}",
            11000,
            {"code": 11000, "keyValue": key_value},
        )

    async def create_index(self, keys: Any, *args: Any, **kwargs: Any) -> str:
        """Record the index and return its name; a unique one is enforced from now on."""
        fields = [keys] if isinstance(keys, str) else [field for field, _ in keys]
        if kwargs.get("unique") and "_id" not in fields:
            self._unique.append(tuple(fields))
        self.indexes.append(keys)
        if "name" in kwargs:
            return str(kwargs["name"])
        if isinstance(keys, str):
            return f"{keys}_1"
        return "_".join(f"{field}_{direction}" for field, direction in keys)


class MemoryDatabase:
    """A database of MemoryCollections by name: what a service's bootstrap takes instead of a server's."""

    def __init__(self, name: str = "mash") -> None:
        self.name = name
        self.collections: dict[str, MemoryCollection] = {}

    def __getitem__(self, name: str) -> MemoryCollection:
        if name not in self.collections:
            self.collections[name] = MemoryCollection(name)
        return self.collections[name]

    def get_collection(self, name: str) -> MemoryCollection:
        """The collection called `name` (created empty on first use, as on MongoDB)."""
        return self[name]

    async def command(self, command: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Answers `ping` (readiness); nothing else."""
        if command != "ping":
            raise _unsupported(f"the command {command!r}")
        await asyncio.sleep(0)
        return {"ok": 1.0}

    async def list_collection_names(self) -> list[str]:
        """Names of the collections used so far."""
        return sorted(self.collections)

    def documents(self) -> Iterable[tuple[str, Document]]:
        """Every stored document with its collection's name: for tests that search all of a service's data."""
        for name, collection in self.collections.items():
            for doc in collection.documents.values():
                yield name, doc


def as_collection(collection: MemoryCollection) -> AsyncCollection[Document]:
    """The fake typed as pymongo's collection (it implements only the methods the hub uses)."""
    return cast("AsyncCollection[Document]", collection)


def as_database(database: MemoryDatabase) -> AsyncDatabase[Document]:
    """The fake typed as pymongo's database, for a service's bootstrap."""
    return cast("AsyncDatabase[Document]", database)


def memory_store(
    collection: MemoryCollection | None = None,
    on_events: Callable[[str], None] | None = None,
    cipher: AtRestCipher | None = None,
) -> AggregateStore:
    """An AggregateStore on `collection` (a fresh MemoryCollection by default)."""
    return AggregateStore(as_collection(collection or MemoryCollection()), on_events=on_events, cipher=cipher)
