"""An outgoing event stored inside the aggregate that caused it (the outbox entry).

Writing the event into the same document as the state change, in one atomic update, is what makes
"stored but never published" impossible without multi-document transactions. `mash_runtime.relay`
publishes the entries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mash_schemas.envelope import EventEnvelope
from opentelemetry import propagate
from pydantic import BaseModel


class OutboxEntry(BaseModel):
    """An event waiting to be published, with the trace it belongs to."""

    event_id: str
    event_type: str
    topic: str
    key: str
    value: str
    traceparent: str | None = None
    created_at: datetime

    @classmethod
    def of(
        cls, event: EventEnvelope[Any], topic: str, key: str | None = None, traceparent: str | None = None
    ) -> OutboxEntry:
        """Queue `event` for `topic`, keyed by its referral so one referral's events stay in order.

        The event continues `traceparent` when given (the referral's own trace, kept by its aggregate),
        else the current trace.
        """
        carrier: dict[str, str] = {"traceparent": traceparent} if traceparent else {}
        if not carrier:
            propagate.inject(carrier)
        return cls(
            event_id=str(event.event_id),
            event_type=event.event_type,
            topic=topic,
            key=key or event.correlation_id,
            value=event.model_dump_json(),
            traceparent=carrier.get("traceparent"),
            created_at=datetime.now(UTC),
        )

    def in_trace(self, traceparent: str | None) -> OutboxEntry:
        """This entry continuing `traceparent` (unchanged when None)."""
        return self.model_copy(update={"traceparent": traceparent}) if traceparent else self
