"""Routing a force's one feed by the child's address: the hub whose area holds it, else the default hub, flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mash_intake.domain.contact_form import police_concern
from mash_intake.domain.police_routing import postcodes_in_order, route_notification, routing_note
from mash_runtime.region import Region, example_region_file, load_region
from mash_schemas.police import PoliceNotification

POLICE = Path(__file__).resolve().parents[3] / "demo" / "police"

pytestmark = pytest.mark.unit


@pytest.fixture
def region() -> Region:
    return load_region(example_region_file())


def notification(*subjects: tuple[str, str | None]) -> PoliceNotification:
    """The demo's drugs-warrant notification with these (kind, postcode) subjects."""
    document: dict[str, Any] = json.loads((POLICE / "scenario-3-drugs-warrant.json").read_text(encoding="utf-8"))
    template = document["subjects"][0]
    document["subjects"] = []
    for number, (kind, postcode) in enumerate(subjects):
        subject = {**template, "subject_id": f"s{number}", "kind": kind}
        if kind != "unborn_child":
            subject.pop("expected_date", None)
            subject["date_of_birth"] = "2015-01-01" if kind == "child" else "1990-01-01"
        subject["address"] = {"lines": ["1 High Street"], "postcode": postcode} if postcode else None
        document["subjects"].append(subject)
    return PoliceNotification.model_validate(document)


def test_the_childs_address_comes_before_the_adults(region: Region) -> None:
    found = notification(("adult_at_risk", "WS1 1AA"), ("unborn_child", "ES3 2BB"), ("child", None))
    assert postcodes_in_order(found) == [None, "ES3 2BB", "WS1 1AA"]
    route, routed = route_notification(region, "shires-police", found)
    assert route.hub.id == "eastshire"
    assert routed.routing is not None
    assert (routed.routing.region, routed.routing.hub, routed.routing.district, routed.routing.matched) == (
        "shires", "eastshire", "ES3", True)
    assert routing_note(routed.routing) is None  # matched: nothing for the screener to check
    assert routed.model_copy(update={"routing": None}) == found  # nothing else changes


def test_an_address_in_no_hubs_area_goes_to_the_default_hub_and_the_screener_is_told_first(region: Region) -> None:
    route, routed = route_notification(region, "shires-police", notification(("child", "EX4 4HT")))
    assert (route.hub.id, route.matched) == ("westshire", False)
    assert routed.routing is not None and routed.routing.district == "EX4"
    narrative = police_concern(routed).narrative
    assert narrative.startswith("ADDRESS NOT IN THIS HUB'S AREA: the address (postcode district EX4)")
    assert "came to westshire as the force's default hub" in narrative
    assert "ADDRESS NOT IN" not in police_concern(notification(("child", "EX4 4HT"))).narrative  # no region


def test_no_postcode_at_all_also_goes_to_the_default_hub_flagged(region: Region) -> None:
    _, routed = route_notification(region, "shires-police", notification(("child", None)))
    assert routed.routing is not None and not routed.routing.matched
    assert "(no postcode)" in (routing_note(routed.routing) or "")
