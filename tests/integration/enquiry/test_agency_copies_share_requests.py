"""Two copies of one agency's kit, as separate `python -m mash_agency run` processes in the consumer
group `agency-early-help`, share the agency's three request partitions: both answer, neither answers
a request the other answered, and exactly one response per request reaches the hub.

Which copy answered what is read from each copy's own log: aiokafka names the partitions assigned to
it, and the kit names every request it answers. The requests' partitions come from the request topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mash_enquiry.settings import EnquirySettings
from mash_schemas.topics import ENQUIRY_COMPLETED, agency_response_topic, enquiry_request_topic
from pymongo import AsyncMongoClient

from tests.integration.enquiry.conftest import (
    an_enquiry,
    kit_answers,
    kit_assignment,
    kit_process,
    messages_on,
    namespaced,
    open_enquiry,
    partition_count,
    referral_ids_over_partitions,
    running_desk,
    true,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

AGENCY = "early-help"
PARTITIONS = 3
PER_PARTITION = 4


async def test_two_copies_share_the_requests_without_doubling_answers(
    infrastructure: Infrastructure, namespace: str, desk_settings: EnquirySettings,
    mongo: AsyncMongoClient[dict[str, Any]], artefacts: Path,
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    request_topic = namespaced(namespace, enquiry_request_topic(AGENCY))
    response_topic = namespaced(namespace, agency_response_topic(AGENCY))
    completed_topic = namespaced(namespace, ENQUIRY_COMPLETED)
    logs = [artefacts / "agency-early-help-a.log", artefacts / "agency-early-help-b.log"]
    spread = referral_ids_over_partitions(PER_PARTITION, PARTITIONS)
    referrals = [referral for ids in spread.values() for referral in ids]

    recorder = TopicRecorder(bootstrap, [request_topic, response_topic, completed_topic])
    async with running_desk(desk_settings), recorder.running():
        assert await partition_count(bootstrap, request_topic) == PARTITIONS  # created by the hub
        copies = [kit_process(infrastructure, namespace, AGENCY, log, "--delay", "0.05-0.2").start() for log in logs]
        try:
            async def settled() -> tuple[set[int], set[int]] | None:
                for copy in copies:
                    assert copy.running, f"a copy exited; see {copy.log_path}"
                first, second = kit_assignment(logs[0]), kit_assignment(logs[1])
                if first and second and not first & second and first | second == set(range(PARTITIONS)):
                    return first, second
                return None

            assignments = await eventually(settled, timeout=45, what="both copies holding partitions of the group")
            for referral in referrals:
                await open_enquiry(bootstrap, namespace, an_enquiry(referral, [AGENCY], due_in=600))

            await eventually(lambda: true(len(recorder.on(completed_topic)) == len(referrals)), timeout=60,
                             what="every enquiry completed")
            answered = [kit_answers(log) for log in logs]
        finally:
            for copy in copies:
                copy.stop()

    requests = recorder.on(request_topic)
    assert len(requests) == len(referrals)
    partition_of = {r.json()["payload"]["request_id"]: r.partition for r in requests}
    assert {r.key: r.partition for r in requests} == {ref: p for p, ids in spread.items() for ref in ids}

    # Exactly one response per request reached the hub (counted on the broker, both copies stopped).
    assert await messages_on(bootstrap, response_topic) == len(referrals)
    answers = recorder.on(response_topic)
    assert sorted(a.json()["payload"]["request_id"] for a in answers) == sorted(partition_of)

    # Both copies answered; together every request, none twice; each only on the partitions it held.
    first, second = answered
    assert first and second
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == sorted(partition_of)
    for copy_answers, held in zip(answered, assignments, strict=True):
        assert {partition_of[request_id] for request_id in copy_answers} == held
        assert len(copy_answers) == PER_PARTITION * len(held)

    outcomes = [r.json()["payload"] for r in recorder.on(completed_topic)]
    assert sorted(o["referral_id"] for o in outcomes) == sorted(referrals)
    assert all(o["completion"] == "all_answered" and [f["agency"] for f in o["findings"]] == [AGENCY]
               for o in outcomes)
