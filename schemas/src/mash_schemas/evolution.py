"""How events are read across versions: strict writers, tolerant readers, and upcasters.

The contract's models are **strict for writers**: building an event with a field the contract does not
name (a typo, a field of a newer version) fails, so a producer can only emit what the contract says.
A **reader** must not be that strict, or every consumer not yet upgraded would dead-letter the events of
a producer that added an optional field. Rather than keep a second, lax copy of every model, the same
models validate in *reading mode*: `read_event` validates with a context (`READING`) that the base
classes (`mash_schemas.common.Model`, `EventEnvelope`) look for, and in that mode they drop the fields
they do not know before pydantic's `extra="forbid"` sees them. The context reaches every nested model,
so the tolerance is the same at every depth, and without it nothing changes: construction stays strict.

`schema_version` is read, not just carried. A breaking change bumps an event's `SCHEMA_VERSION` and
registers an **upcaster** from the previous version: a pure function from the older JSON document to the
next version's, registered with `EVENT_UPCASTERS.register(event_type, from_version)` next to the model.
`read_event` applies the chain from the record's version up to the model's before validating; a version
with no chain (older with a gap, or newer than this reader) raises `UnsupportedSchemaVersion`, which the
hub's consumers set aside on the dead-letter topic with the reason. A record without `schema_version`
is version 1 (the field's first default).

Both the hub's services (mash_runtime.screening) and the agency kit read through here, so partners who
install only this package get the same behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationInfo

if TYPE_CHECKING:
    from mash_schemas.envelope import EventEnvelope

READING = "mash_schemas.reading"
"""Validation-context key: present and true while a consumer reads an event (see `read_event`)."""

AS_WRITTEN = "mash_schemas.as_written"
"""Validation-context key: present and true while a consumer reads an event only if it is exactly as the
model's current writers emit it (see `read_current_event`)."""

Document = dict[str, Any]
Upcaster = Callable[[Document], Document]
UpcasterT = TypeVar("UpcasterT", bound=Upcaster)
EventT = TypeVar("EventT", bound="EventEnvelope[Any]")


def reading_context() -> dict[str, bool]:
    """The validation context under which the contract's models read tolerantly."""
    return {READING: True}


def is_reading(info: ValidationInfo) -> bool:
    """Whether this validation is a reader's (unknown fields ignored), not a writer's (refused)."""
    context = info.context
    return isinstance(context, Mapping) and bool(context.get(READING))


def is_as_written_only(info: ValidationInfo) -> bool:
    """Whether this reading accepts only an event as its current writers emit it (`read_current_event`)."""
    context = info.context
    return isinstance(context, Mapping) and bool(context.get(AS_WRITTEN))


def as_written(model: type[Any], data: Any) -> bool:
    """Whether the JSON object `data` is an event as `model`'s current writers emit it: it names its
    `event_type`, and its `schema_version` (a record without one is version 1) is an integer, not a bool, a
    float or a string, equal to the model's `SCHEMA_VERSION`. Such an event needs no upcasting."""
    if not isinstance(data, dict) or "event_type" not in data:
        return False
    version = data.get("schema_version", 1)
    return type(version) is int and version == getattr(model, "SCHEMA_VERSION", 1)


def known_fields_only(model: type[Any], data: Any, info: ValidationInfo) -> Any:
    """`data` without the keys `model` does not declare, when reading; `data` untouched when writing.

    Used as a before-validator by the contract's base classes. Aliases are honoured, so a field is kept
    under whichever name the model accepts.
    """
    if not isinstance(data, dict) or not is_reading(info):
        return data
    fields = model.model_fields
    known = set(fields) | {f.alias for f in fields.values() if f.alias} | {
        f.validation_alias for f in fields.values() if isinstance(f.validation_alias, str)
    }
    if all(key in known for key in data):
        return data
    return {key: value for key, value in data.items() if key in known}


class UnsupportedSchemaVersion(ValueError):
    """The record's schema version cannot be brought to the one this reader applies."""

    def __init__(self, event_type: str, version: int, supported: frozenset[int]) -> None:
        self.event_type = event_type
        self.version = version
        self.supported = supported
        listed = ", ".join(str(v) for v in sorted(supported))
        super().__init__(
            f"schema_version {version} is not supported by this consumer (supported: {listed}); "
            f"no upcaster exists for it"
        )


class EventUpcasters:
    """Upcasters keyed by (event_type, from_version); each returns the document at from_version + 1.

    An upcaster receives a copy of the JSON document (envelope and payload) and returns the next
    version's; the registry sets `schema_version` after each step, so an upcaster only reshapes.
    """

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[UpcasterT], UpcasterT]:
        """Decorator: `function` turns a `from_version` document of `event_type` into the next version's."""

        def add(function: UpcasterT) -> UpcasterT:
            key = (event_type, from_version)
            if key in self._steps:
                raise ValueError(f"an upcaster of {event_type} from version {from_version} is already registered")
            self._steps[key] = function
            return function

        return add

    def supported_versions(self, event_type: str, current: int) -> frozenset[int]:
        """`current`, and every older version from which an unbroken chain of upcasters reaches it."""
        supported = {current}
        version = current - 1
        while version >= 1 and (event_type, version) in self._steps:
            supported.add(version)
            version -= 1
        return frozenset(supported)

    def upcast(self, event_type: str, document: Document, current: int) -> Document:
        """`document` brought to version `current`; raises UnsupportedSchemaVersion if it cannot be."""
        version = document.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("schema_version: not an integer")
        if version not in self.supported_versions(event_type, current):
            raise UnsupportedSchemaVersion(event_type, version, self.supported_versions(event_type, current))
        while version < current:
            document = self._steps[(event_type, version)](dict(document))
            version += 1
            document["schema_version"] = version
        return document


EVENT_UPCASTERS = EventUpcasters()
"""The hub's upcasters; each event module registers its own next to its model."""


def event_type_of(model: type[EventEnvelope[Any]]) -> str:
    """The event type a model reads (its `event_type` default, which every event class sets)."""
    default = model.model_fields["event_type"].default
    if not isinstance(default, str):
        raise TypeError(f"{model.__name__} does not fix its event_type")
    return default


def read_current_event(raw: bytes | str, model: type[EventT]) -> EventT:
    """The event in `raw` as `model`, parsed and validated in one step straight from the bytes (pydantic's
    `model_validate_json`), read tolerantly as `read_event` reads, when it is as the model's current writers
    emit it (`as_written`): the common case, which needs no upcasting and no intermediate dict.

    Raises pydantic's ValidationError for anything else, an older version as much as an invalid event:
    a caller that must tell them apart, or upcast, then reads the record with `read_event`.
    """
    return model.model_validate_json(raw, context={READING: True, AS_WRITTEN: True})


def read_event(
    raw: bytes | str | Document,
    model: type[EventT],
    *,
    upcasters: EventUpcasters = EVENT_UPCASTERS,
) -> EventT:
    """The event in `raw` as `model`: upcast to the model's version, unknown fields ignored.

    Raises UnsupportedSchemaVersion for a version with no upcaster path, pydantic's ValidationError for
    an invalid event, and ValueError for a value that is not a JSON object.
    """
    document = raw if isinstance(raw, dict) else json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError(f"the value is JSON but not an object (a {type(document).__name__})")
    current = model.SCHEMA_VERSION
    if document.get("schema_version", 1) != current:
        document = upcasters.upcast(event_type_of(model), document, current)
        return model.model_validate_json(json.dumps(document), context=reading_context())
    if isinstance(raw, dict):
        return model.model_validate_json(json.dumps(raw), context=reading_context())
    return model.model_validate_json(raw, context=reading_context())
