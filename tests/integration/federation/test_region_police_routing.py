"""One force, one feed, two councils: the router sends each notification to the hub of the child's address.

Real broker and store, real processes: both hubs' intake (as westshire-intake and eastshire-intake), the
force's router (as police-router-shires-police) and the force's system writing its one feed (as
police-feed-shires-police). An address in Westshire's area lands in Westshire only, one in Eastshire's in
Eastshire only, one in neither goes to the force's default hub (Westshire) with the flag first in what its
screener reads, and a record that is no notification is set aside on the default hub's dead-letter topic.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mash_runtime.region import Region
from mash_schemas.deadletter import DeadLetter
from mash_schemas.police import PoliceNotificationReceived
from mash_schemas.topics import DEAD_LETTER, POLICE_NOTIFICATION
from pymongo import AsyncMongoClient

from demo.region import RegionConfig, RegionRun, send_to_force_feed
from tests.support.infrastructure import Infrastructure
from tests.support.region import region_of_test
from tests.support.topics import TopicRecorder, produce_raw
from tests.support.waiting import eventually

DEMO = Path(__file__).resolve().parents[3] / "demo"
FORCE = "shires-police"


def drugs_warrant(number: str, postcode: str) -> dict[str, Any]:
    """The demo's drugs-warrant notification (an unborn child: the hub must see it) at this postcode."""
    notification: dict[str, Any] = json.loads((DEMO / "police" / "scenario-3-drugs-warrant.json").read_text("utf-8"))
    notification["notification_id"] = f"SP-{number}"
    notification["subjects"][0]["address"]["postcode"] = postcode
    return notification


@pytest.fixture
async def region_running(infrastructure: Infrastructure, namespace: str,
                         tmp_path: Path) -> AsyncIterator[tuple[Region, RegionRun]]:
    region, path = region_of_test(namespace, tmp_path)
    run = RegionRun(RegionConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                                 region_file=path, workdir=tmp_path, services=("intake",)))
    try:
        await run.start()
        yield region, run
    finally:
        run.stop()


async def test_each_notification_reaches_only_the_hub_whose_area_holds_the_childs_address(
    infrastructure: Infrastructure, region_running: tuple[Region, RegionRun],
) -> None:
    region, _ = region_running
    west, east = region.hub("westshire"), region.hub("eastshire")
    bootstrap = infrastructure.kafka_bootstrap
    sent = {
        "west": await send_to_force_feed(bootstrap, region, FORCE, drugs_warrant("1", "WS3 1AB")),
        "east": await send_to_force_feed(bootstrap, region, FORCE, drugs_warrant("2", "es5 2cd")),
        "nowhere": await send_to_force_feed(bootstrap, region, FORCE, drugs_warrant("3", "EX4 4HT")),
    }
    expected_hub = {"west": west, "east": east, "nowhere": west}
    await produce_raw(bootstrap, region.police_feed_topic(FORCE), b'{"not": "a notification"}', key=b"SP-4")

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
    recorder = TopicRecorder(bootstrap, [west.topic(POLICE_NOTIFICATION), east.topic(POLICE_NOTIFICATION),
                                         west.topic(DEAD_LETTER)])
    try:
        async with recorder.running():
            async def every_contact_in_its_hub() -> dict[str, dict[str, Any]] | None:
                found = {}
                for label, contact_id in sent.items():
                    contacts = mongo[expected_hub[label].database("intake")]["contacts"]
                    found[label] = await contacts.find_one({"_id": contact_id})
                return found if all(found.values()) else None

            contacts = await eventually(every_contact_in_its_hub, timeout=120, what="each contact in its hub")

            async def dead_lettered() -> list[DeadLetter] | None:
                letters = [DeadLetter.model_validate_json(r.value) for r in recorder.on(west.topic(DEAD_LETTER))]
                return [letter for letter in letters if letter.payload.origin_key == "SP-4"] or None

            (letter,) = await eventually(dead_lettered, timeout=60, what="the bad record dead-lettered")
            assert letter.payload.origin_topic == region.police_feed_topic(FORCE)

            for label, hub in expected_hub.items():
                other = east if hub is west else west
                assert await mongo[other.database("intake")]["contacts"].find_one({"_id": sent[label]}) is None
            routed = {r.key: PoliceNotificationReceived.model_validate_json(r.value)
                      for topic in (west, east) for r in recorder.on(topic.topic(POLICE_NOTIFICATION))}
            on_topic = {r.key: hub.id for hub in (west, east) for r in recorder.on(hub.topic(POLICE_NOTIFICATION))}
    finally:
        await mongo.close()

    assert on_topic == {"SP-1": "westshire", "SP-2": "eastshire", "SP-3": "westshire"}
    routing = {key: event.payload.routing for key, event in routed.items()}
    assert {key: (r.hub, r.district, r.matched) for key, r in routing.items() if r} == {
        "SP-1": ("westshire", "WS3", True), "SP-2": ("eastshire", "ES5", True), "SP-3": ("westshire", "EX4", False)}

    flagged = contacts["nowhere"]["referral"]["concern"]["narrative"]
    assert flagged.startswith("ADDRESS NOT IN THIS HUB'S AREA: the address (postcode district EX4)")
    for label in ("west", "east"):
        assert "ADDRESS NOT IN" not in contacts[label]["referral"]["concern"]["narrative"]
