"""The agency kit reads enquiry requests as a tolerant reader: a newer hub's extra fields are ignored, and a
schema version the kit has no upcaster for is skipped with a reason (an agency has no dead-letter topic)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from mash_agency.kit import build_kit
from mash_agency.settings import AgencySettings
from mash_schemas import AgencyResponded

from tests.unit.agency.agency_builders import NOW, request_event, scenario_request

pytestmark = pytest.mark.unit


async def answers_to(*bodies: bytes) -> list[AgencyResponded]:
    kit = build_kit(AgencySettings(name="health", namespace="t1tolerant"), now=lambda: NOW)
    received: list[AgencyResponded] = []

    @kit.broker.subscriber(kit.settings.response_topic)
    async def on_response(message: KafkaMessage) -> None:
        received.append(AgencyResponded.model_validate_json(message.body))

    async with TestKafkaBroker(kit.broker):
        for body in bodies:
            await kit.broker.publish(body, kit.settings.request_topic, key=b"ref-0001")
    return received


def newer_request() -> tuple[dict[str, Any], str]:
    event = request_event(scenario_request(1, "health", referral_id="ref-42", request_id="req-7"))
    body = json.loads(event.model_dump_json())
    body["priority"] = "urgent"  # a field a later hub adds to the envelope
    body["payload"]["interpreter_needed"] = True  # and to the request
    for subject in body["payload"].get("subjects", []):
        subject["preferred_name"] = "Sam"  # and deeper down
    return body, str(event.event_id)


async def test_a_request_with_fields_this_kit_does_not_know_is_answered() -> None:
    body, event_id = newer_request()

    (response,) = await answers_to(json.dumps(body).encode())

    assert str(response.causation_id) == event_id
    assert response.payload.request_id == "req-7"


async def test_a_request_of_a_version_the_kit_cannot_read_is_skipped_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, _ = newer_request()
    good = request_event(scenario_request(2, "health"))

    with caplog.at_level(logging.ERROR, logger="mash_agency"):
        responses = await answers_to(json.dumps({**body, "schema_version": 2}).encode(),
                                     good.model_dump_json().encode())

    assert len(responses) == 1  # the next request was still answered
    assert "schema_version 2 is not supported by this consumer" in caplog.text
    assert "upgrade the kit" in caplog.text
