"""One deployment of the agency kit answers every hub its agency belongs to, each on the hub that asked.

The police kit runs once, as `agency-police`, given only the region file; Westshire's and Eastshire's
research desks (as westshire-enquiry and eastshire-enquiry) each send it requests on their own request
topic. Every answer must come back on the asking hub's response topic and never on the other's.
"""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer
from mash_schemas import AgencyResponded
from mash_schemas.topics import agency_response_topic, enquiry_request_topic

from demo.region import RegionConfig, RegionRun
from tests.support.infrastructure import Infrastructure
from tests.support.region import create_topics, region_of_test, secured_access
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually
from tests.unit.agency.agency_builders import request_event, scenario_request


async def test_one_police_kit_answers_both_hubs_each_on_the_hub_that_asked(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path,
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    region, path = region_of_test(namespace, tmp_path)
    run = RegionRun(RegionConfig(kafka_bootstrap=bootstrap, mongo_url=infrastructure.mongo_url, region_file=path,
                                 workdir=tmp_path, routers=False))
    run.grant()
    access = run.kafka_access or secured_access()
    west, east = region.hub("westshire"), region.hub("eastshire")
    requests = {hub.id: hub.topic(enquiry_request_topic("police")) for hub in (west, east)}
    responses = {hub.id: hub.topic(agency_response_topic("police")) for hub in (west, east)}
    await create_topics(bootstrap, access, [*requests.values(), *responses.values()], partitions=3)

    asked = {"westshire": ["W-1", "W-2", "W-3"], "eastshire": ["E-1", "E-2"]}
    kit = run.agency_process("police").start()
    recorder = TopicRecorder(bootstrap, list(responses.values()))
    try:
        async with recorder.running():
            for hub in (west, east):
                desk = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                        **access.client_options(hub.principal("enquiry")))
                await desk.start()
                try:
                    for referral in asked[hub.id]:
                        event = request_event(scenario_request(4, "police", referral_id=referral,
                                                               request_id=f"req-{referral}"))
                        await desk.send_and_wait(requests[hub.id], event.model_dump_json().encode(),
                                                 key=referral.encode())
                finally:
                    await desk.stop()

            def answered(hub_id: str) -> list[str]:
                return sorted(AgencyResponded.model_validate_json(r.value).payload.referral_id
                              for r in recorder.on(responses[hub_id]))

            async def every_request_answered() -> bool:
                assert kit.running, f"the police kit exited; see {kit.log_path}"
                return sum(len(answered(hub_id)) for hub_id in asked) >= 5

            await eventually(every_request_answered, timeout=120, what="the kit answered both hubs")
    finally:
        kit.stop()

    assert answered("westshire") == asked["westshire"]
    assert answered("eastshire") == asked["eastshire"]
    log = kit.log_path.read_text(encoding="utf-8")
    assert f"reading {requests['westshire']} as group {west.namespace}.agency-police" in log
    assert f"reading {requests['eastshire']} as group {east.namespace}.agency-police" in log


async def test_a_kit_told_to_answer_a_hub_that_has_not_made_it_a_member_is_refused_by_the_broker(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path,
) -> None:
    """Youth offending is a member of Westshire only: named at Eastshire too, the broker refuses it at start-up."""
    bootstrap = infrastructure.kafka_bootstrap
    region, path = region_of_test(namespace, tmp_path)
    run = RegionRun(RegionConfig(kafka_bootstrap=bootstrap, mongo_url=infrastructure.mongo_url, region_file=path,
                                 workdir=tmp_path, routers=False))
    run.grant()
    access = run.kafka_access or secured_access()
    west, east = region.hub("westshire"), region.hub("eastshire")
    topics = [hub.topic(enquiry_request_topic("youth-offending")) for hub in (west, east)]
    await create_topics(bootstrap, access, topics)

    told_both = run.agency_process("youth-offending")
    told_both.argv += ["--namespaces", f"{west.namespace},{east.namespace}"]  # as if a hub's name were added by hand
    assert told_both.start().wait_exit(timeout=120) == 3
    said = told_both.log_path.read_text(encoding="utf-8")
    assert "the broker refused agency-youth-offending" in said
    assert east.topic(enquiry_request_topic("youth-offending")) in said

    answers = west.topic(agency_response_topic("youth-offending"))
    await create_topics(bootstrap, access, [answers])
    as_listed = run.agency_process("youth-offending", copy=1).start()  # the region file: Westshire only
    recorder = TopicRecorder(bootstrap, [answers])
    try:
        async with recorder.running():
            desk = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                    **access.client_options(west.principal("enquiry")))
            await desk.start()
            try:
                event = request_event(scenario_request(7, "youth-offending", referral_id="W-7", request_id="req-W-7"))
                await desk.send_and_wait(topics[0], event.model_dump_json().encode(), key=b"W-7")
            finally:
                await desk.stop()

            async def answered() -> bool:
                assert as_listed.running, f"the kit exited; see {as_listed.log_path}"
                return bool(recorder.on(answers))

            await eventually(answered, timeout=120, what="the kit answering Westshire")
    finally:
        as_listed.stop()
    (answer,) = recorder.on(answers)
    assert AgencyResponded.model_validate_json(answer.value).payload.referral_id == "W-7"
