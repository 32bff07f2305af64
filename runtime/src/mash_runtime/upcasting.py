"""Stored aggregates across versions: every save records the aggregate's version, every load upcasts.

An aggregate's document outlives the code that wrote it: a replica upgraded today loads documents
written last year. The store (mash_runtime.store.AggregateStore) stamps each document it writes with its
kind's current record version (`_record_version`), and on every load brings an older document's state
to that version through the upcasters registered here, keyed by (kind, from_version), before any domain
code sees it. The kind is the collection's name (`contacts`, `case_files`, `enquiries`, `deliveries`,
...). A document written before versions were stamped is version 1.

Each service registers its kinds' upcasters where it maps their documents (its store.py; notify's
`deliveries` is the first). A kind's current version is the end of its chain of upcasters (1 when it has
none), so registering the upcaster from version N is what makes N + 1 current: the code that reads the new
shape and the upcaster that produces it ship together. A document of a version this code does not know
(written by a newer replica during a rolling upgrade) is refused rather than read and written back in an
older shape, which would lose what the newer replica added.

Events have their own registry (mash_schemas.evolution), since partner agencies read events without
this package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

StoredState = dict[str, Any]
StoredUpcaster = Callable[[StoredState], StoredState]
StoredUpcasterT = TypeVar("StoredUpcasterT", bound=StoredUpcaster)


class UnknownRecordVersion(Exception):
    """A stored aggregate's version cannot be brought to the one this code reads."""


class StoredUpcasters:
    """Upcasters of stored aggregates' state, keyed by (kind, from_version); each returns version + 1."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], StoredUpcaster] = {}

    def register(self, kind: str, from_version: int) -> Callable[[StoredUpcasterT], StoredUpcasterT]:
        """Decorator: `function` turns a `kind` state of `from_version` into the next version's."""

        def add(function: StoredUpcasterT) -> StoredUpcasterT:
            if (kind, from_version) in self._steps:
                raise ValueError(f"an upcaster of stored {kind} from version {from_version} is already registered")
            self._steps[(kind, from_version)] = function
            return function

        return add

    def current_version(self, kind: str) -> int:
        """The version this code writes for `kind`: the end of its chain of upcasters from 1."""
        version = 1
        while (kind, version) in self._steps:
            version += 1
        return version

    def upcast(self, kind: str, state: StoredState, version: int) -> StoredState:
        """`state`, stored at `version`, as the current version's; raises UnknownRecordVersion if it cannot."""
        current = self.current_version(kind)
        if version < 1 or version > current:
            raise UnknownRecordVersion(
                f"a stored {kind} document has record version {version}; this code reads versions 1 to {current} "
                "(written by a newer release? upgrade this replica)"
            )
        while version < current:
            state = self._steps[(kind, version)](dict(state))
            version += 1
        return state


STORED_UPCASTERS = StoredUpcasters()
"""The hub's upcasters of stored aggregates."""
