"""Case files in MongoDB: the only module of the decision service that touches its collections.

A case file holds agency intelligence, so it is stored encrypted with the hub's sealing keys (the
whole case file as one sealed value); the queue and the clock read only referral id, state, rating
and due time, which carry no case content. Writes go through the runtime's AggregateStore (one
version-checked write holding state, inbox and outbox), so nothing is applied twice or lost.
"""

from __future__ import annotations

import json
from typing import Any

from mash_runtime.sealing import AtRestCipher
from mash_runtime.store import AggregateStore, Decide
from mash_runtime.telemetry import current_traceparent

from mash_decision.domain.case_file import CaseFile

OPEN_STATES = ["awaiting_screening", "enquiry_open", "awaiting_decision"]


class DecisionStore:
    """Seals case files into store state, opens them back, and finds the open ones."""

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
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

    async def apply(self, referral_id: str, decide: Decide,
                    event_id: str | None = None) -> bool:
        """One version-checked write of the case file (`event_id` marks another service's event as applied)."""
        return await self.aggregates.apply(referral_id, decide, event_id=event_id)

    async def get(self, referral_id: str) -> CaseFile | None:
        """One case file, or None."""
        state = await self.aggregates.get(referral_id)
        return self.case_of(state) if state else None

    async def open_cases(self) -> list[tuple[CaseFile, dict[str, Any]]]:
        """Every case still waiting for the desk or an enquiry, with its stored state."""
        cursor = self.aggregates.collection.find({"state": {"$in": OPEN_STATES}})
        return [(self.case_of(doc), doc) async for doc in cursor]

    async def ensure_indexes(self) -> None:
        """The queue filters by state."""
        await self.aggregates.collection.create_index("state")
