"""Counting the store requests a piece of code makes on an in-memory collection: the tests of gathered reads and
writes (consuming in batches, notify's queuing) assert how many round trips a real store would have seen."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mash_runtime.memory_store import MemoryCollection

COUNTED = ("find_one", "find", "insert_one", "replace_one", "bulk_write")


def count_calls(collection: MemoryCollection, calls: Counter[str]) -> None:
    """From now on, each of `collection`'s COUNTED methods adds one to `calls[name]` when called."""
    for name in COUNTED:
        method = getattr(collection, name)

        def spy(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _method(*args, **kwargs)

        setattr(collection, name, spy)
