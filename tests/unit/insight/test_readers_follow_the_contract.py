"""Insight's narrow readers follow the contract (issue 24 item 3): each view reads the version of its event the
contract's writers emit now, every field it names is a field of the contract's model at the same place, and for
every version the hub still supports the view reads what the writers wrote.

The views are a second, lax description of the events (mash_insight.readers says why insight keeps them). These
tests are what ties them to the contract: a renamed field, a moved one, or a version bump without an upcaster fails
here, not as dead letters on a running hub.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from typing import Any

import pytest
from mash_insight import readers
from mash_schemas.catalogue import EVENTS
from mash_schemas.envelope import EventEnvelope
from mash_schemas.evolution import EVENT_UPCASTERS, event_type_of, read_event
from pydantic import BaseModel

from tests.support.insight_events import generate_month
from tests.unit.federation.test_transfer_insight import transferred_out

pytestmark = pytest.mark.unit

VIEWS: list[type[EventEnvelope[Any]]] = [
    value for name, value in vars(readers).items()
    if isinstance(value, type) and issubclass(value, EventEnvelope) and value.__module__ == readers.__name__
    and name == value.__name__ and "[" not in name  # pydantic binds its parametrised generics here too
]


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds (`X`, `X | None`, `list[X]`, a union of several)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (list, tuple, typing.Union, types.UnionType, typing.Annotated):
        return [model for arg in typing.get_args(annotation) for model in models_in(arg)]
    return []


def drift(view: type[BaseModel], contract: list[type[BaseModel]], path: str) -> list[str]:
    """Every field `view` names that no model in `contract` has at this place (nested models followed)."""
    problems: list[str] = []
    for name, field in view.model_fields.items():
        holders = [model for model in contract if name in model.model_fields]
        if not holders:
            problems.append(f"{path}{name}: not a field of {', '.join(m.__name__ for m in contract)}")
            continue
        nested = models_in(field.annotation)
        if nested:
            inner = [m for holder in holders for m in models_in(holder.model_fields[name].annotation)]
            if not inner:
                problems.append(f"{path}{name}: a model in the view, a plain value in the contract")
            for model in nested:
                problems += drift(model, inner, f"{path}{name}.") if inner else []
    return problems


def subset(view: Any, written: Any) -> bool:
    """True if everything the view read equals what the writer wrote at the same place."""
    if isinstance(view, dict):
        return isinstance(written, dict) and all(k in written and subset(v, written[k]) for k, v in view.items())
    if isinstance(view, list):
        return isinstance(written, list) and len(view) == len(written) and all(map(subset, view, written))
    return bool(view == written)


def test_there_is_a_view_for_each_event_insight_reads() -> None:
    assert len(VIEWS) == 9 and len({event_type_of(view) for view in VIEWS}) == 9


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_a_view_reads_the_contracts_current_version_of_its_event(view: type[EventEnvelope[Any]]) -> None:
    assert view.SCHEMA_VERSION == EVENTS[event_type_of(view)].SCHEMA_VERSION


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_every_field_a_view_names_is_the_contracts_at_the_same_place(view: type[EventEnvelope[Any]]) -> None:
    contract = EVENTS[event_type_of(view)]
    assert drift(view, [contract], "") == []


def test_the_drift_check_can_fail() -> None:
    """A view naming a field the contract lacks, or one nested where the contract has a value, is reported."""

    class Renamed(readers.View):
        referal_id: str

    class Nested(readers.View):
        source: Renamed

    contract = models_in(EVENTS["referral.received"].model_fields["payload"].annotation)
    assert drift(Renamed, contract, "") == ["referal_id: not a field of Referral"]
    assert drift(Nested, contract, "") == ["source: a model in the view, a plain value in the contract"]


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_every_supported_version_reads_as_the_writers_wrote_it(view: type[EventEnvelope[Any]]) -> None:
    event_type = event_type_of(view)
    supported = EVENT_UPCASTERS.supported_versions(event_type, view.SCHEMA_VERSION)
    # The hub supports only the current version of the events insight reads today. An older version kept readable
    # (an upcaster registered) needs an example of it read here too: this fails until one is added.
    assert supported == {view.SCHEMA_VERSION}, f"add an example of {event_type} at versions {sorted(supported)}"
    written = [event for topic, event in generate_month(date(2026, 3, 2), days=12, seed=11).events
               if event.event_type == event_type]
    if event_type == "transfer.sent":  # the generated month has no transfers
        written = [transferred_out("MASH-0000000000T1", "westshire")]
    assert written, f"no written {event_type} to read"
    for event in written:
        read = read_event(event.model_dump_json().encode(), view)
        assert subset(read.model_dump(mode="json")["payload"], event.model_dump(mode="json")["payload"])
