"""Responses the hub must not apply go to the namespaced dead-letter topic with the reason, and the
partition keeps flowing: the real health kit's answer, queued behind them on the same partition, is
applied and completes the enquiry."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

from mash_enquiry.domain.fanout import request_id_for
from mash_enquiry.settings import EnquirySettings
from mash_schemas import AgencyResponded, AgencyResponse
from mash_schemas.topics import DEAD_LETTER, ENQUIRY_COMPLETED, agency_response_topic
from pymongo import AsyncMongoClient

from tests.integration.enquiry.conftest import (
    an_enquiry,
    enquiry_document,
    kit_settings,
    namespaced,
    open_enquiry,
    running_desk,
    running_kit,
    true,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder, produce_raw
from tests.support.waiting import eventually


def _nothing_known(agency: str, enquiry_id: str, referral_id: str, request_agency: str) -> AgencyResponded:
    response = AgencyResponse(
        request_id=request_id_for(enquiry_id, request_agency), enquiry_id=enquiry_id, referral_id=referral_id,
        agency=agency, responded_by=f"{agency} researcher", responded_at=datetime.now(UTC),
        outcome="nothing_known",
    )
    return AgencyResponded.build(response, correlation_id=referral_id, producer=f"agency:{agency}",
                                 event_id=uuid.uuid4())


async def test_wrong_topic_and_unknown_enquiry_are_dead_lettered_and_the_partition_flows(
    infrastructure: Infrastructure, namespace: str, desk_settings: EnquirySettings,
    mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    health_responses = namespaced(namespace, agency_response_topic("health"))
    dead_letters = namespaced(namespace, DEAD_LETTER)
    completed = namespaced(namespace, ENQUIRY_COMPLETED)
    enquiry = an_enquiry("ref-misaddressed-1", ["health", "police"], due_in=120)
    key = enquiry.referral_id.encode()  # same key as the real answer: the same partition, queued in front of it

    # Police's answer, but published on health's topic (a misconfigured or malicious kit).
    on_wrong_topic = _nothing_known("police", enquiry.enquiry_id, enquiry.referral_id, "police")
    # A health answer to an enquiry this hub never opened.
    unknown = _nothing_known("health", "enq-never-opened", enquiry.referral_id, "health")

    recorder = TopicRecorder(bootstrap, [dead_letters, health_responses, completed])
    async with running_desk(desk_settings), recorder.running():
        await open_enquiry(bootstrap, namespace, enquiry)
        await produce_raw(bootstrap, health_responses, on_wrong_topic.model_dump_json().encode(), key=key)
        await produce_raw(bootstrap, health_responses, unknown.model_dump_json().encode(), key=key)
        async with running_kit(kit_settings(infrastructure, namespace, "health")):
            await eventually(lambda: true(len(recorder.on(dead_letters)) == 2), timeout=30, what="two dead letters")

            async def health_recorded() -> dict[str, Any] | None:
                document = await enquiry_document(mongo, namespace, enquiry.enquiry_id)
                return document if document and "health" in document["responses"] else None

            document = await eventually(health_recorded, timeout=30, what="health's real answer applied")

    letters = {r.json()["payload"]["raw_base64"]: r.json() for r in recorder.on(dead_letters)}
    wrong = letters[base64.b64encode(on_wrong_topic.model_dump_json().encode()).decode()]["payload"]
    assert wrong["error_type"] == "rejected"
    assert wrong["reason"] == "response from agency 'police' arrived on the topic of agency 'health'"
    assert wrong["origin_topic"] == health_responses
    assert wrong["origin_key"] == enquiry.referral_id
    assert wrong["consumer"] == f"enquiry/{namespace}.enquiry.responses.health"
    not_ours = letters[base64.b64encode(unknown.model_dump_json().encode()).decode()]["payload"]
    assert not_ours["error_type"] == "rejected"
    assert not_ours["reason"] == "the response names an unknown enquiry 'enq-never-opened'"

    # All three on one partition; the real answer came after both rejected ones and was applied.
    answers = recorder.on(health_responses)
    assert len(answers) == 3
    real = answers[2]
    assert real.json()["producer"] == "agency:health"
    assert {wrong["origin_partition"], not_ours["origin_partition"]} == {real.partition}
    assert wrong["origin_offset"] < not_ours["origin_offset"] < real.offset
    # Neither rejected answer touched the enquiry: police is still awaited, so it has not completed.
    assert sorted(document["responses"]) == ["health"]
    assert document["state"] == "open"
    assert recorder.on(completed) == []
