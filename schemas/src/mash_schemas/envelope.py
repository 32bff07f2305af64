"""The envelope every event travels in, and deterministic ids for derived events.

Derived ids are deterministic (UUIDv5 of the causing event and a name) so that a handler replayed
after a crash emits the very same events, which consumers then recognise and skip.

Each event class gives `event_type` a default so that producers never spell it out, but every event on
the wire carries it: the hub's consumers refuse a message without one (mash_runtime.screening), and the
published JSON Schema lists it as required.

Writers are strict and readers tolerant (mash_schemas.evolution): an envelope built with a field it does
not name fails, while one read by `read_event` ignores such fields. A writer always emits its class's
`SCHEMA_VERSION` (filled in when not given, refused when another is given); a reader is handed an event
already upcast to that version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.config import JsonDict

from mash_schemas.evolution import as_written, is_as_written_only, is_reading, known_fields_only

PayloadT = TypeVar("PayloadT", bound=BaseModel)

_NAMESPACE = uuid.UUID("5b0c5d1e-7a57-4c3e-9d7e-3a4d6a5f0b11")


def derived_event_id(cause: uuid.UUID | str, name: str) -> uuid.UUID:
    """Return the id of the event named `name` that `cause` gives rise to; same inputs, same id."""
    return uuid.uuid5(_NAMESPACE, f"{cause}/{name}")


def _event_type_required(schema: JsonDict, model: type[Any]) -> None:
    """Publish `event_type` as required (consumers refuse an event without it, whatever the default), and
    the version this event's writers emit as `schema_version`'s default."""
    required = schema.setdefault("required", [])
    assert isinstance(required, list)
    if "event_type" not in required:
        required.insert(0, "event_type")
    properties = schema.get("properties")
    version = schema_version = None
    if isinstance(properties, dict):
        schema_version = properties.get("schema_version")
        version = getattr(model, "SCHEMA_VERSION", 1)
    if isinstance(schema_version, dict) and isinstance(version, int):
        schema_version["default"] = version


class EventEnvelope(BaseModel, Generic[PayloadT]):
    """Metadata common to every event; `payload` carries the event's own fields.

    Subclasses fix `event_type` with a Literal and set `TOPIC` (or a per-agency topic function).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_event_type_required)

    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: uuid.UUID = Field(description="Unique id of this event; consumers skip ids already applied.")
    event_type: str
    schema_version: int = Field(
        1, ge=1, description="Bumped only for a breaking change, with an upcaster from the previous version. "
        "Writers emit their event's current version; a record without it is version 1. Consumers upcast the "
        "older versions they have upcasters for and set any other aside on the dead-letter topic with the reason.",
    )
    occurred_at: AwareDatetime
    correlation_id: str = Field(min_length=1, max_length=64, description="The referral this event is about.")
    causation_id: uuid.UUID | None = Field(None, description="The event that caused this one, if any.")
    producer: str = Field(min_length=1, max_length=64, description="Service or agency that produced it.")
    payload: PayloadT

    @model_validator(mode="before")
    @classmethod
    def _writers_version_and_readers_tolerance(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and "schema_version" not in data and not is_reading(info):
            data = {**data, "schema_version": cls.SCHEMA_VERSION}
        if is_as_written_only(info) and not as_written(cls, data):
            raise ValueError(f"not a {cls.__name__} as its version {cls.SCHEMA_VERSION} writers emit it")
        return known_fields_only(cls, data, info)

    @model_validator(mode="after")
    def _writers_emit_the_current_version(self, info: ValidationInfo) -> Self:
        # A writer stating an older version with the current shape would have readers upcast it wrongly.
        if not is_reading(info) and self.schema_version != self.SCHEMA_VERSION:
            raise ValueError(
                f"schema_version: {type(self).__name__} writes version {self.SCHEMA_VERSION}, not "
                f"{self.schema_version} (an older version is only read, through its upcaster)"
            )
        return self

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
