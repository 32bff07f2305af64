"""What a consumer checks on a record's raw bytes before any handler sees it.

Every consumed topic is open to clients that are not the hub's (an agency's own kit, an operator with
kcat), so anything can arrive: no value at all, a value near the broker's limit, bytes that are not JSON,
an event of a schema version this code was not written for, or one with no `event_type`. Each of these
is refused here with a reason an operator can act on, and the consuming path sets it aside on the
dead-letter topic, so the partition behind it keeps flowing. The checks run in one place, for every
topic, so that no handler has to remember them.

A record that passes is read as a tolerant reader reads (mash_schemas.evolution.read_event): fields this
consumer does not know are ignored, so a producer may add an optional field before its consumers upgrade,
and an older `schema_version` is upcast to the model's through the registered upcasters. A version with
no upcaster path to the model's (a newer one, or an older one nobody wrote an upcaster for) is refused as
`unsupported_schema_version`.

An event as its current writers emit it (nearly every record) is parsed and validated in one step,
straight from the bytes (mash_schemas.evolution.read_current_event, pydantic's `model_validate_json`).
Only a record that is not (an older version to upcast, or a refusal to explain) is then read the careful
way below: parsed once to a dict, checked, upcast, validated once; the refusals and their reasons are that
path's, so they are the same whichever way a record came.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from mash_schemas.envelope import EventEnvelope
from mash_schemas.evolution import (
    EVENT_UPCASTERS,
    EventUpcasters,
    UnsupportedSchemaVersion,
    event_type_of,
    read_current_event,
    read_event,
)
from pydantic import ValidationError

EventT = TypeVar("EventT", bound=EventEnvelope[Any])


@dataclass(frozen=True)
class Refusal:
    """Why a record will not be applied: `error_type` is the dead letter's category, `reason` its text."""

    error_type: str
    reason: str


def supported_schema_versions(
    event_model: type[EventEnvelope[Any]], upcasters: EventUpcasters = EVENT_UPCASTERS
) -> frozenset[int]:
    """The schema versions a consumer of `event_model` can apply: its own, and those upcast to it."""
    return upcasters.supported_versions(event_type_of(event_model), event_model.SCHEMA_VERSION)


def screen(
    value: bytes | None, event_model: type[EventT], max_value_bytes: int, upcasters: EventUpcasters = EVENT_UPCASTERS
) -> EventT | Refusal:
    """The validated event, or why the record is refused. Never raises for anything a producer can send."""
    if value is None:
        return Refusal("empty_value", "the record has a null value (a tombstone); every event has a body")
    if not value:
        return Refusal("empty_value", "the record's value is empty; every event has a body")
    if len(value) > max_value_bytes:
        return Refusal(
            "oversize_value",
            f"the value is {len(value)} bytes, over the consumer's limit of {max_value_bytes} bytes "
            "(MASH_CONSUMER_MAX_VALUE_BYTES); no event of the contract is that large",
        )
    # ValueError covers pydantic's ValidationError (JSON errors included); RecursionError, JSON nested too deeply.
    with contextlib.suppress(ValueError, RecursionError):
        return read_current_event(value, event_model)
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Refusal("invalid_event", f"the value is not JSON: {type(exc).__name__} at byte {_where(exc)}")
    except RecursionError:
        return Refusal("invalid_event", "the value is JSON nested too deeply to read")
    if not isinstance(document, dict):
        return Refusal("invalid_event", f"the value is JSON but not an object (a {type(document).__name__})")
    if "event_type" not in document:
        return Refusal("invalid_event", "event_type: missing; every event names its type")
    version = document.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        return Refusal("invalid_event", "schema_version: not an integer")
    try:
        return read_event(value if version == event_model.SCHEMA_VERSION else document, event_model,
                          upcasters=upcasters)
    except UnsupportedSchemaVersion as exc:
        return Refusal("unsupported_schema_version", str(exc))
    except ValidationError as exc:
        return Refusal("invalid_event", validation_reason(exc))
    except Exception as exc:  # an upcaster that chokes on a malformed older document: that document is invalid
        return Refusal("invalid_event", f"the version {version} event could not be upcast: {type(exc).__name__}")


def validation_reason(exc: ValidationError) -> str:
    """Field paths and messages only: never the input values, which may hold case detail."""
    problems = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()]
    return "invalid event: " + "; ".join(problems[:20])


def _where(exc: UnicodeDecodeError | json.JSONDecodeError) -> int:
    return exc.start if isinstance(exc, UnicodeDecodeError) else exc.pos
