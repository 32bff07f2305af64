"""The region model: the packaged example, the area table, police routing, membership and what a file may not say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from mash_runtime.config_files import ConfigError, parse_config
from mash_runtime.region import (
    Region,
    UnknownHub,
    UnknownPoliceForce,
    example_region_file,
    load_region,
    neighbour_agency_id,
    postcode_district,
    region_from_environment,
)


@pytest.fixture
def region() -> Region:
    return load_region(example_region_file())


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(example_region_file().read_text(encoding="utf-8"))
    return loaded


def _parse(document: dict[str, Any]) -> Region:
    return parse_config(yaml.safe_dump(document), Region, what="region")


def test_the_example_names_two_hubs_with_namespaces_defaulting_to_their_ids(region: Region) -> None:
    assert [(hub.id, hub.namespace) for hub in region.hubs] == [("westshire", "westshire"), ("eastshire", "eastshire")]
    assert region.hub("westshire").name == "Westshire County Council"
    assert region.namespace == "shires"
    assert region.hub("eastshire").areas == [f"ES{n}" for n in range(1, 10)]


@pytest.mark.parametrize(("postcode", "district"), [
    ("WS3 1AB", "WS3"), ("ws3 1ab", "WS3"), ("WS31AB", "WS3"), ("  es12   4xy ", "ES12"), ("SW1A 1AA", "SW1A"),
    ("WS3", "WS3"), ("", None), (None, None), ("not a postcode", None), ("12345", None),
])
def test_a_postcode_gives_its_district(postcode: str | None, district: str | None) -> None:
    assert postcode_district(postcode) == district


def test_the_area_table_finds_the_hub_whose_area_holds_the_postcode(region: Region) -> None:
    west, east = region.hub("westshire"), region.hub("eastshire")
    assert region.hub_for_postcode("WS4 2QT") == west
    assert region.hub_for_postcode("es9 9zz") == east
    assert region.hub_for_postcode("EX17 3AX") is None  # Devon: nobody's area in this region
    assert region.hub_for_postcode(None) is None


def test_police_routing_takes_the_first_matching_address_else_the_default_hub_flagged(region: Region) -> None:
    route = region.route_for_force("shires-police", [None, "ES2 1AA", "WS1 1AA"])
    assert (route.hub.id, route.district, route.matched) == ("eastshire", "ES2", True)
    unmatched = region.route_for_force("shires-police", ["EX17 3AX", None])
    assert (unmatched.hub.id, unmatched.district, unmatched.matched) == ("westshire", "EX17", False)
    nothing = region.route_for_force("shires-police", [])
    assert (nothing.hub.id, nothing.district, nothing.matched) == ("westshire", None, False)
    with pytest.raises(UnknownPoliceForce):
        region.route_for_force("elsewhere-police", ["WS1 1AA"])


def test_an_area_of_a_hub_the_force_does_not_serve_goes_to_the_default_hub() -> None:
    document = _document()
    document["hubs"].append({"id": "northshire", "name": "Northshire Council", "areas": ["NS1"]})
    region = _parse(document)
    route = region.route_for_force("shires-police", ["NS1 1AA"])
    assert (route.hub.id, route.matched) == ("westshire", False)


def test_membership_an_agency_serves_the_hubs_that_list_it_and_a_hub_serves_every_other(region: Region) -> None:
    assert [hub.id for hub in region.hubs_of_agency("police")] == ["westshire", "eastshire"]
    assert [hub.id for hub in region.hubs_of_agency("youth-offending")] == ["westshire"]
    assert region.hubs_of_agency("nobody") == []
    assert neighbour_agency_id("eastshire") == "hub-eastshire"
    assert [hub.id for hub in region.hubs_of_agency("hub-eastshire")] == ["westshire"]
    assert [hub.id for hub in region.neighbours("westshire")] == ["eastshire"]
    assert "youth-offending" in region.agencies() and "hub-westshire" not in region.agencies()


def test_names_per_hub_principals_topics_databases_and_the_force_feed(region: Region) -> None:
    west = region.hub("westshire")
    assert west.principal("intake") == "westshire-intake"
    assert west.topic("mash.police.notification") == "westshire.mash.police.notification"
    assert west.database("decision") == "westshire_decision"
    assert region.police_feed_topic("shires-police") == "shires.mash.police.feed.shires-police"
    force = region.police_force("shires-police")
    assert (force.feed_principal, force.router_principal) == ("police-feed-shires-police", "police-router-shires-police")
    assert region.hub_in("eastshire").id == "eastshire"
    with pytest.raises(UnknownHub):
        region.hub("northshire")
    with pytest.raises(UnknownHub):
        region.hub_in("nowhere")


def test_a_test_run_moves_every_namespace_under_its_own_prefix_and_the_file_reads_back(
    region: Region, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = region.with_namespaces("t-1a2b")
    assert [hub.namespace for hub in mine.hubs] == ["t-1a2b-westshire", "t-1a2b-eastshire"]
    assert mine.police_feed_topic("shires-police") == "t-1a2b-shires.mash.police.feed.shires-police"
    path = mine.write(tmp_path / "region.yaml")
    assert load_region(path) == mine
    monkeypatch.setenv("MASH_REGION_FILE", str(path))
    assert region_from_environment() == mine
    monkeypatch.setenv("MASH_REGION_FILE", "")
    assert region_from_environment() is None


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["hubs"][1].update(areas=["WS1"]), "WS1 is in both westshire and eastshire"),
    (lambda d: d["hubs"][1].update(id="westshire"), "hub id is used twice"),
    (lambda d: d["hubs"][1].update(namespace="westshire"), "namespaces must differ"),
    (lambda d: d["police_forces"][0].update(default_hub="northshire"), "default_hub"),
    (lambda d: d["police_forces"][0].update(hubs=["westshire", "northshire"], default_hub="westshire"),
     "the region does not name"),
    (lambda d: d["hubs"][0].update(agencies=["police", "hub-eastshire"]), "neighbouring hubs"),
    (lambda d: d["hubs"][0].update(areas=["Westshire"]), "areas"),
    (lambda d: d["hubs"][0].update(colour="green"), "colour"),
])
def test_a_region_file_that_contradicts_itself_is_refused_naming_the_field(change: Any, message: str) -> None:
    document = _document()
    change(document)
    with pytest.raises(ConfigError, match=message):
        _parse(document)
