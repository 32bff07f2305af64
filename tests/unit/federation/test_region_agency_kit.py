"""One agency kit for several hubs, on faststream's in-memory broker: each answer goes back to the hub that asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker
from mash_agency.cli import main
from mash_agency.kit import MessageOrigin, build_kit
from mash_agency.region import RegionFileInvalid
from mash_agency.settings import AgencySettings
from mash_runtime.region import example_region_file, load_region

from tests.unit.agency.agency_builders import NOW, request_event, scenario_request
from tests.unit.agency.test_agency_kit import listen

pytestmark = pytest.mark.unit


async def test_each_hubs_request_is_answered_on_that_hubs_response_topic() -> None:
    settings = AgencySettings(name="health", namespaces="west,east")
    kit = build_kit(settings, now=lambda: NOW)
    west = listen(kit.broker, settings.response_topic_in("west"))
    east = listen(kit.broker, settings.response_topic_in("east"))
    async with TestKafkaBroker(kit.broker):
        for namespace, referral in (("east", "ref-e1"), ("west", "ref-w1"), ("east", "ref-e2")):
            event = request_event(scenario_request(1, "health", referral_id=referral, request_id=f"req-{referral}"))
            await kit.broker.publish(event.model_dump_json().encode(), settings.request_topic_in(namespace),
                                     key=referral.encode())

    assert [r.payload.referral_id for r in east.responses()] == ["ref-e1", "ref-e2"]
    assert [r.payload.referral_id for r in west.responses()] == ["ref-w1"]
    groups = {namespace: subscriber.group_id for namespace, subscriber in kit.subscribers.items()}
    assert groups == {"west": "west.agency-health", "east": "east.agency-health"}


async def test_publishing_to_a_hub_the_kit_does_not_answer_is_an_error_not_a_fallback() -> None:
    kit = build_kit(AgencySettings(name="health", namespaces="west,east"), now=lambda: NOW)
    event = request_event(scenario_request(1, "health", referral_id="ref-1", request_id="req-1"))
    origin = MessageOrigin("west.mash.enquiry.request.health", 0, 0)
    response = await kit.responder.respond(event.model_dump_json().encode(), origin)
    assert response is not None
    async with TestKafkaBroker(kit.broker):
        with pytest.raises(KeyError):
            await kit.publish(response, "north")


def test_the_region_file_names_the_hubs_an_agency_answers(tmp_path: Path) -> None:
    region = load_region(example_region_file()).with_namespaces("t-9")
    path = region.write(tmp_path / "region.yaml")
    assert AgencySettings(name="police", region_file=path).hub_namespaces() == ["t-9-westshire", "t-9-eastshire"]
    assert AgencySettings(name="youth-offending", region_file=path).hub_namespaces() == ["t-9-westshire"]
    assert AgencySettings(name="health", namespace="solo").hub_namespaces() == ["solo"]
    with pytest.raises(RegionFileInvalid, match="no hub lists 'fire-service'"):
        AgencySettings(name="fire-service", region_file=path).hub_namespaces()


def test_namespaces_must_be_names_and_listed_once() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        AgencySettings(name="health", namespaces="west,west")
    with pytest.raises(ValueError, match="lower case"):
        AgencySettings(name="health", namespaces="West")


def test_the_command_refuses_a_region_file_that_does_not_name_the_agency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = load_region(example_region_file()).write(tmp_path / "region.yaml")
    assert main(["run", "--agency", "fire-service", "--region-file", str(path)]) == 2
    assert "no hub lists 'fire-service'" in capsys.readouterr().err
