"""Case files in MongoDB: the whole case file sealed at rest, with plain fields only for the queue.

A case file holds agency intelligence, so it is stored encrypted with the hub's sealing keys; the
queue and the clock read only referral id, state, rating and due time, which carry no case content.
"""

from __future__ import annotations

import json
from typing import Any

from mash_runtime.sealing import AtRestCipher
from mash_runtime.store import AggregateStore
from mash_runtime.telemetry import current_traceparent

from mash_decision.domain.case_file import CaseFile

OPEN_STATES = ["awaiting_screening", "enquiry_open", "awaiting_decision"]


class CaseFiles:
    """Seals case files into store state and opens them back."""

    def __init__(self, store: AggregateStore, cipher: AtRestCipher) -> None:
        self.store = store
        self._cipher = cipher

    def state_of(self, case: CaseFile, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """The document state for `case`: sealed body plus queue fields, keeping the alerts already raised."""
        return {
            "referral_id": case.referral_id,
            "state": case.state.value,
            "rating": case.rating.value,
            "received_at": case.referral.received_at,
            "due_at": case.decision_deadline.due_at,
            "sealed_case": self._cipher.seal(json.dumps(case.to_document(), default=str)),
            "alerts_raised": (previous or {}).get("alerts_raised", []),
            # The referral's trace: events from later desk steps continue it (see desk.py).
            "trace_parent": (previous or {}).get("trace_parent") or current_traceparent(),
        }

    def case_of(self, state: dict[str, Any]) -> CaseFile:
        """The case file in a stored state."""
        return CaseFile.from_document(json.loads(self._cipher.open(state["sealed_case"])))

    async def get(self, referral_id: str) -> CaseFile | None:
        """One case file, or None."""
        state = await self.store.get(referral_id)
        return self.case_of(state) if state else None

    async def open_cases(self) -> list[tuple[CaseFile, dict[str, Any]]]:
        """Every case still waiting for the desk or an enquiry, with its stored state."""
        cursor = self.store.collection.find({"state": {"$in": OPEN_STATES}})
        return [(self.case_of(doc), doc) async for doc in cursor]

    async def ensure_indexes(self) -> None:
        """The queue filters by state."""
        await self.store.collection.create_index("state")
