"""Stored aggregates across versions: every save records the aggregate's version, every load upcasts.

An aggregate's document outlives the code that wrote it: a replica upgraded today loads documents
written last year. The store (mash_runtime.store.AggregateStore) stamps each document it writes with its
kind's current record version (`_record_version`), and on every load brings an older document's state
to that version through the upcasters registered here, keyed by (kind, from_version), before any domain
code sees it. The kind is the collection's name (`contacts`, `case_files`, `enquiries`, `deliveries`,
...). A document written before versions were stamped is version 1.

A kind's current version is the end of its chain of upcasters (1 when it has none), so registering the
upcaster from version N is what makes N + 1 current: the code that reads the new shape and the upcaster
that produces it ship together. A document of a version this code does not know (written by a newer
replica during a rolling upgrade) is refused rather than read and written back in an older shape, which
would lose what the newer replica added.

Events have their own registry (mash_schemas.evolution), since partner agencies read events without
this package.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
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


# The example, and the first real entry: notify's delivery record. It belongs beside notify's aggregate; it
# is registered here while notify's code is being reshaped (moving it is a change of import only).
DELIVERIES = "deliveries"


@STORED_UPCASTERS.register(DELIVERIES, from_version=1)
def upcast_delivery_v1_v2(state: StoredState) -> StoredState:
    """A version 1 delivery record as version 2: the outcome becomes a log, `error` becomes `last_error`.

    Version 1 kept only the outcome of a delivery: `status`, `attempts`, the last failure as `error` and
    the time it was queued and then sent (`sent_at`) or given up (`failed_at`). Version 2 keeps its history
    as `log`, one line per step (`at`, `status`, `reason`), which the delivery log page and the re-send
    read, and the last failure as `last_error`. The log rebuilt here holds the steps version 1 can vouch
    for. A state already in version 2's shape (a document written before versions were stamped) passes
    unchanged.
    """
    if "last_error" not in state and "error" in state:
        state["last_error"] = state.pop("error")
    if "log" not in state:
        log: list[dict[str, Any]] = []
        if isinstance(state.get("queued_at"), datetime | str):
            log.append({"at": state["queued_at"], "status": "queued", "reason": None})
        if state.get("status") == "sent" and state.get("sent_at") is not None:
            log.append({"at": state["sent_at"], "status": "sent", "reason": None})
        if state.get("status") == "failed" and state.get("failed_at") is not None:
            log.append({"at": state.pop("failed_at"), "status": "failed", "reason": state.get("last_error")})
        state["log"] = log
    return state
