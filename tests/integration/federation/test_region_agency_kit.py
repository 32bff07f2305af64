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
