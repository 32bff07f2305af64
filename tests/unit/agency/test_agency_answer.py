"""Building the agency response event: ids stable across reminders, envelope fields, answer rules."""

from __future__ import annotations

import uuid

import pytest
from mash_agency import simulated
from mash_agency.adapter import (
    MAX_ITEMS,
    AdapterNotFound,
    AgencyAnswer,
    AnswerWithoutRating,
    TooManyItems,
    load_adapter,
)
from mash_agency.answer import RequestForAnotherAgency, build_response, producer_name, response_event_id
from mash_agency.simulated import SimulatedAgency
from mash_schemas import AgencyResponded, BragRating, InformationItem, ReleaseCondition, Sensitivity

from tests.unit.agency.agency_builders import NOW, request_event, scenario_request

pytestmark = pytest.mark.unit


def item(item_id: str = "i-1") -> InformationItem:
    return InformationItem(
        item_id=item_id,
        about="mother",
        summary="Mother missed three appointments.",
        sensitivity=Sensitivity.SENSITIVE,
        release=ReleaseCondition(permitted=False, request_route="Call the desk, quoting the MASH reference."),
    )


def test_response_carries_the_envelope_the_hub_expects() -> None:
    event = request_event(scenario_request(1, "health", referral_id="ref-77", request_id="req-9"))
    answer = AgencyAnswer.information_held([item()], BragRating.AMBER, "Named nurse")

    response = build_response(event, answer, agency="health", now=NOW)

    assert response.event_type == "agency.response"
    assert response.correlation_id == "ref-77"
    assert response.causation_id == event.event_id
    assert response.producer == producer_name("health") == "agency:health"
    assert response.occurred_at == NOW
    payload = response.payload
    assert (payload.request_id, payload.enquiry_id, payload.referral_id) == ("req-9", "enq-0001", "ref-77")
    assert payload.agency == "health"
    assert payload.responded_by == "Named nurse"
    assert payload.responded_at == NOW
    assert payload.outcome == "information_held"
    assert payload.rating is BragRating.AMBER
    assert payload.items == [item()]


def test_a_reminder_is_answered_with_the_same_response_event_id() -> None:
    first = request_event(scenario_request(1, "health", request_id="req-1"))
    reminder = request_event(scenario_request(1, "health", request_id="req-1", reminder_number=1))
    answer = SimulatedAgency("health").answer(first.payload)

    original = build_response(first, answer, agency="health", now=NOW)
    again = build_response(reminder, answer, agency="health", now=NOW.replace(hour=15))

    assert first.event_id != reminder.event_id
    assert original.event_id == again.event_id == response_event_id("req-1", "health")
    assert again.causation_id == reminder.event_id  # each answer still says what prompted it


def test_response_ids_differ_by_request_and_by_agency() -> None:
    ids = {
        response_event_id("req-1", "health"),
        response_event_id("req-2", "health"),
        response_event_id("req-1", "police"),
    }

    assert len(ids) == 3
    assert all(isinstance(value, uuid.UUID) for value in ids)


def test_nothing_known_has_no_items_and_survives_the_wire() -> None:
    event = request_event(scenario_request(5, "early-help"))

    response = build_response(event, AgencyAnswer.nothing_known(), agency="early-help", now=NOW)

    assert response.payload.outcome == "nothing_known"
    assert response.payload.items == []
    assert response.payload.rating is None
    assert response.payload.responded_by == "early-help (agency kit)"
    assert AgencyResponded.model_validate_json(response.model_dump_json()) == response


def test_a_request_for_another_agency_is_not_answered_in_its_name() -> None:
    event = request_event(scenario_request(1, "police"))

    with pytest.raises(RequestForAnotherAgency):
        build_response(event, AgencyAnswer.nothing_known(), agency="health", now=NOW)


def test_information_without_a_rating_is_refused() -> None:
    with pytest.raises(AnswerWithoutRating):
        AgencyAnswer(items=(item(),))


def test_information_held_with_no_items_is_nothing_known() -> None:
    answer = AgencyAnswer.information_held([], BragRating.RED, "desk")

    assert answer.outcome == "nothing_known"
    assert answer.rating is None
    assert answer.responded_by == "desk"


def test_more_items_than_a_response_may_carry_are_refused() -> None:
    with pytest.raises(TooManyItems):
        AgencyAnswer.information_held([item(f"i-{n}") for n in range(MAX_ITEMS + 1)], BragRating.GREEN)


def test_load_adapter_calls_a_class_with_the_agency_name() -> None:
    adapter = load_adapter("mash_agency.simulated:SimulatedAgency", "probation")

    assert isinstance(adapter, SimulatedAgency)
    assert adapter.agency == "probation"


def test_load_adapter_uses_an_adapter_object_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    ready = SimulatedAgency("police")
    monkeypatch.setattr(simulated, "READY_FOR_TEST", ready, raising=False)

    assert load_adapter("mash_agency.simulated:READY_FOR_TEST", "police") is ready


@pytest.mark.parametrize(
    "path",
    [
        "mash_agency.simulated",
        "no_such_module_anywhere:Adapter",
        "mash_agency.simulated:NoSuchAdapter",
        "mash_agency.simulated:normalise_name",  # a callable, but what it returns is no adapter
        "mash_agency.simulated:_DATE_PLACEHOLDER",
    ],
)
def test_load_adapter_refuses_what_is_not_an_adapter(path: str) -> None:
    with pytest.raises(AdapterNotFound):
        load_adapter(path, "health")


def test_an_agency_may_answer_with_its_own_safety_scale() -> None:
    event = request_event(scenario_request(1, "health", referral_id="ref-77", request_id="req-9"))
    answer = AgencyAnswer(items=(item(),), rating=BragRating.AMBER, safety_scale=3)

    assert build_response(event, answer, agency="health", now=NOW).payload.safety_scale == 3
    assert build_response(event, AgencyAnswer.nothing_known(), agency="health", now=NOW).payload.safety_scale is None
    with pytest.raises(ValueError, match="0 to 10"):
        AgencyAnswer(safety_scale=11)
