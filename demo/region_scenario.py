"""`make demo`'s two-hub part: a family known to Eastshire moves to Westshire (docs/federation.md).

Westshire and Eastshire run side by side on the same broker and store, each its own hub, sharing the
agencies that serve both and one police force. The steps, each a function another part can call:

1. `known_in_eastshire`: Eastshire's staff carry a concern about Ellie Ward to a decision;
2. `police_notification_after_the_move`: the family has moved; the force's one feed reports an incident at
   the new address, and the router sends it to Westshire, whose area holds it (and not to Eastshire);
3. `across_the_boundary` (passed as `more_steps` by `make demo`): Westshire asks Eastshire as its virtual
   member `hub-eastshire`, and a contact made to Eastshire about the family at its new address is
   transferred to Westshire and decided there (demo/federation_steps.py).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mash_runtime.region import postcode_district
from pymongo import AsyncMongoClient

from demo.federation_steps import ask_the_neighbour, transfer_and_decide
from demo.hub import AgencyOptions
from demo.region import RegionConfig, RegionRun, region_for_run, send_to_force_feed
from demo.scenarios import DEMO_DIR, CarriedCase, Scenario, carry
from demo.waiting import eventually

FORCE = "shires-police"
OLD_ADDRESS: dict[str, Any] = {"lines": ["12 Harbour Row"], "town": "Eastbury", "postcode": "ES3 4LW"}
NEW_ADDRESS: dict[str, Any] = {"lines": ["7 Orchard Close"], "town": "Westford", "postcode": "WS4 7HQ"}


@dataclass
class FamilyMoved:
    """What the two-hub part found: Eastshire's case and the police notification that followed the family."""

    eastshire_case: CarriedCase
    notification_id: str
    routed_to: str
    westshire_contact: dict[str, Any]


MoreSteps = Callable[[RegionRun, FamilyMoved], Awaitable[list[str]]]


def _at(contact: dict[str, Any], address: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(contact)
    for subject in moved["subjects"]:
        subject["address"] = address
    return moved


def across_the_boundary(scenario: Scenario) -> MoreSteps:
    """Issue 20's further steps, after the police notification followed the family to Westshire.

    Westshire's manager asks Eastshire, as the virtual member `hub-eastshire`, about a contact made to Westshire
    about the family at its new address; then a contact made to Eastshire (a professional there who still knows
    the old address as the family's) is transferred by Eastshire's screener to Westshire and decided there.
    """

    async def steps(run: RegionRun, moved: FamilyMoved) -> list[str]:
        at_new = _at(scenario.contact, NEW_ADDRESS)
        west = run.client("westshire")
        try:
            accepted = await west.submit_contact(at_new)
            accepted.raise_for_status()
            referral_id = str(accepted.json()["referral_id"])
        finally:
            await west.close()
        lines = await ask_the_neighbour(run, "westshire", "eastshire", referral_id)
        return lines + await transfer_and_decide(run, "eastshire", "westshire", at_new)

    return steps


async def known_in_eastshire(run: RegionRun, scenario: Scenario) -> CarriedCase:
    """Eastshire's staff carry `scenario` (the family at its Eastshire address) from contact to decision."""
    client = run.client("eastshire")
    try:
        return await carry(client, replace(scenario, contact=_at(scenario.contact, OLD_ADDRESS)),
                           enquiry_timeout=180)
    finally:
        await client.close()


def _notification_after_the_move(scenario: Scenario) -> dict[str, Any]:
    """A domestic-abuse notification about the family at its new Westshire address."""
    notification: dict[str, Any] = json.loads((DEMO_DIR / "police" / "routine-01-domestic-abuse.json")
                                              .read_text(encoding="utf-8"))
    child = {**_at(scenario.contact, NEW_ADDRESS)["subjects"][0], "kind": "child"}
    notification.update(
        notification_id=f"SP-DA-{uuid.uuid4().hex[:8].upper()}", force="Shires Constabulary",
        incident_at=datetime.now(UTC).replace(microsecond=0).isoformat(), children_present=True, dash_risk="high",
        subjects=[child], household=scenario.contact.get("household", []), flags=["child present"],
        narrative="Officers attended 7 Orchard Close after a neighbour heard shouting. The mother's partner had "
                  "left; the mother had a facial injury. Ellie (13) was in the house and told officers the "
                  "family moved here from Eastshire a fortnight ago.",
    )
    return notification


async def police_notification_after_the_move(run: RegionRun, scenario: Scenario,
                                             known: CarriedCase) -> FamilyMoved:
    """The force's one feed reports the family at its new address; return where the router sent it."""
    notification = _notification_after_the_move(scenario)
    contact_id = await send_to_force_feed(run.config.kafka_bootstrap, run.region, FORCE, notification)
    west, east = run.region.hub("westshire"), run.region.hub("eastshire")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(run.config.mongo_url)
    try:
        async def in_westshire() -> dict[str, Any] | None:
            return await mongo[west.database("intake")]["contacts"].find_one({"_id": contact_id})

        contact = await eventually(in_westshire, timeout=60, what="the notification received in Westshire")
        assert await mongo[east.database("intake")]["contacts"].find_one({"_id": contact_id}) is None
    finally:
        await mongo.close()
    return FamilyMoved(eastshire_case=known, notification_id=notification["notification_id"],
                       routed_to="westshire", westshire_contact=contact)


async def two_hub_part(kafka: str, mongo: str, workdir: Path, prefix: str, scenario: Scenario,
                       more_steps: MoreSteps | None = None) -> None:
    """Run the region (namespaces <prefix>-<hub>), carry the family across the boundary, print it, stop."""
    region_file = region_for_run(None, workdir, prefix=prefix)
    agencies = {agency: AgencyOptions() for agency in scenario.agencies}
    run = RegionRun(RegionConfig(kafka_bootstrap=kafka, mongo_url=mongo, region_file=region_file,
                                 workdir=workdir, agencies=agencies))
    print(f"\nTwo hubs, one region ({run.region.name}): "
          + ", ".join(f"{hub.name} (namespace {hub.namespace})" for hub in run.region.hubs)
          + f"; starting both, the shared agencies ({', '.join(agencies)}) and the police router ...")
    started = time.monotonic()
    try:
        await run.start()
        print(f"Region ready in {time.monotonic() - started:.1f}s; every process logs in as its hub's own principal")
        known = await known_in_eastshire(run, scenario)
        decision = known.decision
        print(f"  Eastshire  [{known.referral_id}] {scenario.title}: decided {decision['rating']}: "
              f"{decision['outcome']} -> {decision['receiving_service']} "
              f"(the family lives at {OLD_ADDRESS['postcode']})")
        moved = await police_notification_after_the_move(run, scenario, known)
        contact = moved.westshire_contact
        district = postcode_district(NEW_ADDRESS["postcode"])
        print(f"  police feed: {moved.notification_id} on {run.region.police_force(FORCE).name}'s one feed, at "
              f"{NEW_ADDRESS['postcode']}: received by Westshire's intake ({district} is in Westshire's area), "
              "nothing in Eastshire's")
        print(f"  Westshire  [{contact['_id']}] {contact['status']}: {contact['history'][-1]['what']}")
        for line in await more_steps(run, moved) if more_steps is not None else []:
            print(f"  {line}")
    finally:
        run.stop()
