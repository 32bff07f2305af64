"""A contact transferred from Eastshire to Westshire, through both services' real bootstraps, in memory.

Eastshire's decision service (the sending desk) and Westshire's intake (the receiving front door) each run
on a MemoryDatabase and TestKafkaBroker, in the namespaces of a two-hub region. What Eastshire's desk
publishes for Westshire is carried by hand to Westshire's intake (in memory the two brokers are apart; on
the real broker tests/integration/federation/test_transfer_exactly_once.py lets Kafka carry it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mash_decision.bootstrap import DecisionService
from mash_decision.bootstrap import bootstrap as decision_bootstrap
from mash_decision.settings import DecisionSettings
from mash_intake.bootstrap import IntakeService
from mash_intake.bootstrap import bootstrap as intake_bootstrap
from mash_intake.domain.transfer_in import transfer_contact_id
from mash_intake.settings import IntakeSettings
from mash_runtime.auth import issue_token
from mash_runtime.clock import FixedClock
from mash_runtime.in_memory import no_topics, running_in_memory
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.region import Region
from mash_runtime.roles import Role
from mash_schemas import BragRating
from mash_schemas.envelope import derived_event_id
from mash_schemas.topics import ENQUIRY_COMPLETED, FEDERATION_TRANSFER, REFERRAL_RECEIVED, TRANSFER_SENT

from tests.support.service_harness import MONDAY_MORNING
from tests.support.transfer import (
    RECEIVING,
    SENDING,
    TRANSFER_REASON,
    enquiry_completed,
    haystack,
    marker,
    moved_family,
    received,
    two_hub_region,
)
from tests.unit.decision.casebook import referral

pytestmark = pytest.mark.unit
RID = "EAST-REF-1"


def _recorder(kept: list[dict[str, Any]]) -> Callable[[Any], Awaitable[None]]:
    async def record(body: Any) -> None:
        kept.append(body if isinstance(body, dict) else json.loads(body))

    return record


@dataclass
class TwoHubs:
    """Eastshire's desk and Westshire's front door, running, with what each put on the topics we watch."""

    region: Region
    desk: DecisionService
    desk_http: httpx.AsyncClient
    desk_db: MemoryDatabase
    front_door: IntakeService
    front_door_http: httpx.AsyncClient
    front_door_db: MemoryDatabase
    front_door_broker: Any
    desk_broker: Any
    to_westshire: list[dict[str, Any]]
    sent_notices: list[dict[str, Any]]
    westshire_referrals: list[dict[str, Any]]

    def staff(self, role: Role) -> dict[str, str]:
        """A bearer header for Eastshire staff in `role` (both hubs use the test's development secret)."""
        secret = self.desk.runtime.settings.jwt_secret.get_secret_value()
        return {"Authorization": f"Bearer {issue_token(secret, f'Jo ({role.value})', [role])}"}

    async def flush(self) -> None:
        """Let both relays publish what their services stored."""
        await self.desk.runtime.relay.publish_pending()
        await self.front_door.runtime.relay.publish_pending()

    async def carry_to_westshire(self, record: dict[str, Any]) -> None:
        """Put a record from Westshire's federation topic before Westshire's intake (as Kafka would)."""
        topic = self.region.hub(RECEIVING).topic(FEDERATION_TRANSFER)
        await self.front_door_broker.publish(json.dumps(record), topic, key=record["correlation_id"].encode())
        await self.flush()


@pytest.fixture
async def hubs(tmp_path: Path) -> AsyncIterator[TwoHubs]:
    region, region_file = two_hub_region("unit", tmp_path)
    clock = FixedClock(MONDAY_MORNING)
    east, west = region.hub(SENDING), region.hub(RECEIVING)
    desk_db = MemoryDatabase("east_decision")
    desk = decision_bootstrap(
        DecisionSettings(environment="test", topic_namespace=east.namespace, log_level="WARNING",
                         region_file=region_file),
        database=as_database(desk_db), clock=clock, topic_admin=no_topics)
    front_db = MemoryDatabase("west_intake")
    front_door = intake_bootstrap(
        IntakeSettings(environment="test", topic_namespace=west.namespace, log_level="WARNING",
                       region_file=region_file),
        database=as_database(front_db), clock=clock, topic_admin=no_topics)
    to_westshire: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    referrals: list[dict[str, Any]] = []
    desk.runtime.broker.subscriber(west.topic(FEDERATION_TRANSFER))(_recorder(to_westshire))
    desk.runtime.broker.subscriber(east.topic(TRANSFER_SENT))(_recorder(sent))
    front_door.runtime.broker.subscriber(west.topic(REFERRAL_RECEIVED))(_recorder(referrals))
    async with (running_in_memory(desk.runtime) as desk_broker,
                running_in_memory(front_door.runtime) as front_broker,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=desk.app), base_url="http://east") as desk_http,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=front_door.app),
                                  base_url="http://west") as front_http):
        yield TwoHubs(region, desk, desk_http, desk_db, front_door, front_http, front_db, front_broker, desk_broker,
                      to_westshire, sent, referrals)


async def _case_awaiting_decision_with_sealed_item(hubs: TwoHubs, secret: str) -> None:
    """Eastshire screens the moved family's referral, asks health and police, and gets police's sealed item."""
    east = hubs.region.hub(SENDING)
    case = moved_family(referral(RID, received_at=MONDAY_MORNING, suggested=BragRating.AMBER))
    await hubs.desk_broker.publish(received(case).model_dump_json(), east.topic(REFERRAL_RECEIVED), key=RID.encode())
    screened = await hubs.desk_http.post(f"/cases/{RID}/screening", json={"rating": "amber"},
                                         headers=hubs.staff(Role.SCREENER))
    assert screened.status_code == 200, screened.text
    opened = await hubs.desk_http.post(f"/cases/{RID}/enquiry", headers=hubs.staff(Role.MANAGER), json={
        "agencies": ["health", "police"], "consent_check": "given"})
    assert opened.status_code == 202, opened.text
    done = enquiry_completed(RID, f"ENQ-{RID}", secret, MONDAY_MORNING)
    await hubs.desk_broker.publish(done.model_dump_json(), east.topic(ENQUIRY_COMPLETED), key=RID.encode())
    await hubs.flush()


async def _transfer(hubs: TwoHubs, role: Role = Role.SCREENER, to_hub: str = RECEIVING) -> httpx.Response:
    return await hubs.desk_http.post(f"/cases/{RID}/transfer", json={"to_hub": to_hub, "reason": TRANSFER_REASON},
                                     headers=hubs.staff(role))


async def test_the_desk_suggests_and_previews_exactly_what_will_cross(hubs: TwoHubs) -> None:
    secret = marker()
    await _case_awaiting_decision_with_sealed_item(hubs, secret)

    view = (await hubs.desk_http.get(f"/cases/{RID}", headers=hubs.staff(Role.SCREENER))).json()
    assert view["transfer_suggestion"]["to_hub"] == RECEIVING
    assert secret in json.dumps(view)  # positive control: the screener sees the sealed item here

    preview = await hubs.desk_http.post(f"/cases/{RID}/transfer/preview", headers=hubs.staff(Role.SCREENER),
                                        json={"to_hub": RECEIVING, "reason": TRANSFER_REASON})
    assert preview.status_code == 200, preview.text
    crossing = preview.json()["transfer"]
    assert crossing["transfer_id"] == f"{SENDING}/{RID}"
    assert [f["item_id"] for f in crossing["origin"]["shared_findings"]] == ["gp-1"]
    assert crossing["origin"]["sealed_references"] == [
        {"agency": "police", "item_id": "pol-7", "request_route": "Ask Eastshire police public protection unit"}]
    assert secret not in json.dumps(crossing)
    # a preview sends nothing and leaves the case where it was
    await hubs.flush()
    assert hubs.to_westshire == []
    assert (await hubs.desk_http.get(f"/cases/{RID}", headers=hubs.staff(Role.MANAGER))).json()[
        "case_file"]["state"] == "awaiting_decision"


async def test_a_transfer_crosses_once_and_westshire_takes_it_once(hubs: TwoHubs) -> None:
    secret = marker()
    await _case_awaiting_decision_with_sealed_item(hubs, secret)

    assert (await _transfer(hubs, Role.ANALYST)).status_code == 403
    assert (await _transfer(hubs, to_hub=SENDING)).status_code == 409  # not to itself
    assert (await _transfer(hubs, to_hub="northshire")).status_code == 422  # no such hub in the region
    answered = await _transfer(hubs)
    assert answered.status_code == 202, answered.text
    assert answered.json() == {"referral_id": RID, "state": "transferred", "to_hub": RECEIVING,
                               "transfer_id": f"{SENDING}/{RID}"}
    assert (await _transfer(hubs)).status_code == 202  # the client's retry: the same transfer, nothing new
    await hubs.flush()

    # exactly one transfer on Westshire's topic, its id derived from the transfer; nothing sealed in it
    [crossed] = hubs.to_westshire
    assert crossed["event_id"] == str(derived_event_id(f"{SENDING}/{RID}", "transferred"))
    assert secret not in json.dumps(crossed)
    assert [notice["payload"]["to_hub_name"] for notice in hubs.sent_notices] == ["Westshire County Council"]

    # Eastshire: closed as transferred, off the queue, the decision refused, the transfer audited
    view = (await hubs.desk_http.get(f"/cases/{RID}", headers=hubs.staff(Role.MANAGER))).json()
    assert view["case_file"]["state"] == "transferred"
    assert view["case_file"]["transfer"]["to_hub_name"] == "Westshire County Council"
    queue = (await hubs.desk_http.get("/queue", headers=hubs.staff(Role.SCREENER))).json()
    assert RID not in [entry["referral_id"] for entry in queue]
    decided = await hubs.desk_http.post(f"/cases/{RID}/decision", headers=hubs.staff(Role.MANAGER),
                                        json={"outcome": "early_help", "rationale": "too late"})
    assert decided.status_code == 409
    audit = (await hubs.desk_http.get(f"/cases/{RID}/audit", headers=hubs.staff(Role.MANAGER))).json()
    assert [record["action"] for record in audit].count("transfer") == 2  # the transfer and the client's retry

    # Westshire: the transfer redelivered, and published again under a new event id, is one contact
    await hubs.carry_to_westshire(crossed)
    await hubs.carry_to_westshire(crossed)
    await hubs.carry_to_westshire({**crossed, "event_id": "00000000-0000-4000-8000-000000000001"})
    contact_id = transfer_contact_id(f"{SENDING}/{RID}")
    [referral_in] = [event["payload"] for event in hubs.westshire_referrals]
    assert referral_in["referral_id"] == contact_id
    origin = referral_in["transferred_from"]
    assert (origin["hub_id"], origin["referral_id"], origin["sending_rating"]) == (SENDING, RID, "amber")
    assert referral_in["suggested_rating"]["rating"] in ("amber", "red")  # never below Eastshire's rating
    contacts = [doc for name, doc in hubs.front_door_db.documents() if name == "contacts"]
    assert [doc["_id"] for doc in contacts] == [contact_id]
    audits = [doc for name, doc in hubs.front_door_db.documents() if name == "audit"]
    assert [(doc["action"], doc["what"]["transfer_id"]) for doc in audits] == [
        ("transfer_received", f"{SENDING}/{RID}")]

    # the sealed marker: in Eastshire's case file (positive control), nowhere in Westshire
    assert secret in haystack(doc for _, doc in hubs.desk_db.documents())
    assert secret not in haystack(doc for _, doc in hubs.front_door_db.documents())
    assert secret not in haystack(hubs.westshire_referrals)
