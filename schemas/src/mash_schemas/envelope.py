"""The envelope every event travels in, and deterministic ids for derived events.

Derived ids are deterministic (UUIDv5 of the causing event and a name) so that a handler replayed
after a crash emits the very same events, which consumers then recognise and skip.

Each event class gives `event_type` a default so that producers never spell it out, but every event on
the wire carries it: the hub's consumers refuse a message without one (mash_runtime.screening), and the
published JSON Schema lists it as required.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

PayloadT = TypeVar("PayloadT", bound=BaseModel)

_NAMESPACE = uuid.UUID("5b0c5d1e-7a57-4c3e-9d7e-3a4d6a5f0b11")


def derived_event_id(cause: uuid.UUID | str, name: str) -> uuid.UUID:
    """Return the id of the event named `name` that `cause` gives rise to; same inputs, same id."""
    return uuid.uuid5(_NAMESPACE, f"{cause}/{name}")


def _event_type_required(schema: JsonDict) -> None:
    """Publish `event_type` as required: consumers refuse an event without it, whatever the default."""
    required = schema.setdefault("required", [])
    assert isinstance(required, list)
    if "event_type" not in required:
        required.insert(0, "event_type")


class EventEnvelope(BaseModel, Generic[PayloadT]):
    """Metadata common to every event; `payload` carries the event's own fields.

    Subclasses fix `event_type` with a Literal and set `TOPIC` (or a per-agency topic function).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_event_type_required)

    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: uuid.UUID = Field(description="Unique id of this event; consumers skip ids already applied.")
    event_type: str
    schema_version: int = Field(
        1, ge=1, description="Bumped only for a breaking change (with an upcaster). Consumers apply the versions "
        "they support (today 1) and set any other aside on the dead-letter topic with the reason.",
    )
    occurred_at: AwareDatetime
    correlation_id: str = Field(min_length=1, max_length=64, description="The referral this event is about.")
    causation_id: uuid.UUID | None = Field(None, description="The event that caused this one, if any.")
    producer: str = Field(min_length=1, max_length=64, description="Service or agency that produced it.")
    payload: PayloadT

    @classmethod
    def build(
        cls,
        payload: PayloadT,
        *,
        correlation_id: str,
        producer: str,
        causation_id: uuid.UUID | None = None,
        event_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Self:
        """Wrap `payload` in a new envelope; pass `event_id` to make a derived event deterministic."""
        fields: dict[str, Any] = {
            "event_id": event_id or uuid.uuid4(),
            "occurred_at": occurred_at or datetime.now(UTC),
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "producer": producer,
            "payload": payload,
        }
        return cls(**fields)
