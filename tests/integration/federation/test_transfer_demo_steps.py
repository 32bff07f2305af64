"""The two-hub demo's steps across the boundary (demo/federation_steps.py) on the real broker, with both hubs'
intake, decision and enquiry as real processes: Westshire asks Eastshire as `hub-eastshire` and gets what it
knew; a contact made to Eastshire about the family at its Westshire address is transferred and decided there.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from demo.client import HubClient
from demo.federation_steps import ask_the_neighbour, transfer_and_decide
from demo.hub import Hub, HubConfig
from tests.support.infrastructure import Infrastructure
from tests.support.transfer import RECEIVING, SENDING, two_hub_region
from tests.support.waiting import eventually

CONTACT = Path(__file__).resolve().parents[3] / "demo" / "contacts" / "scenario-5-quiet-worry.json"
OLD_ADDRESS = {"lines": ["12 Harbour Row"], "town": "Eastbury", "postcode": "ES3 4LW"}
NEW_ADDRESS = {"lines": ["7 Orchard Close"], "town": "Westford", "postcode": "WS4 7HQ"}


def family_at(address: dict[str, Any]) -> dict[str, Any]:
    """Scenario 5's contact with the family at `address`."""
    contact: dict[str, Any] = json.loads(CONTACT.read_text(encoding="utf-8"))
    moved = copy.deepcopy(contact)
    for subject in moved["subjects"]:
        subject["address"] = address
    return moved


class Staff:
    """Staff of each hub, by hub id (as the demo's region run gives them)."""

    def __init__(self, hubs: dict[str, Hub]) -> None:
        self.hubs = hubs

    def client(self, hub_id: str) -> HubClient:
        return HubClient(self.hubs[hub_id])


@pytest.mark.timeout(720)  # a hang guard: two hubs, the police router and the agency kits start on two cores
async def test_a_neighbour_asked_and_a_contact_transferred_and_decided(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path
) -> None:
    region, region_file = two_hub_region(namespace, tmp_path)
    env = {"MASH_REGION_FILE": str(region_file)}
    hubs = {hub_id: Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                                  namespace=region.hub(hub_id).namespace, workdir=tmp_path / hub_id,
                                  service_env={"intake": env, "decision": env, "enquiry": env}))
            for hub_id in (SENDING, RECEIVING)}
    staff = Staff(hubs)
    try:
        for hub in hubs.values():
            for service in ("enquiry", "intake", "decision"):
                await hub.start_service(service)
        east = staff.client(SENDING)
        try:  # Eastshire knows the family from before the move
            known = (await east.submit_contact(family_at(OLD_ADDRESS))).json()["referral_id"]
            await eventually(lambda: east.case(known), timeout=60, what="Eastshire's case")
        finally:
            await east.close()
        west = staff.client(RECEIVING)
        try:
            asking = (await west.submit_contact(family_at(NEW_ADDRESS))).json()["referral_id"]
        finally:
            await west.close()

        asked = await ask_the_neighbour(staff, RECEIVING, SENDING, asking)
        assert asked[0] == f"{RECEIVING} asked hub-{SENDING} about [{asking}]: information_held"
        assert any("open at Eastshire County Council's front door" in line for line in asked), asked

        moved = await transfer_and_decide(staff, SENDING, RECEIVING, family_at(NEW_ADDRESS))
        assert f"{SENDING}'s case is now transferred" in moved[0]
        assert "decided: statutory_assessment" in moved[1]
        print("\n".join([*asked, *moved]))
    finally:
        for hub in hubs.values():
            hub.stop()
