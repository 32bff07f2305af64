"""Eastshire answers Westshire's MASH enquiry as the virtual member `hub-eastshire`, from its case files.

Eastshire's decision service runs through its real bootstrap in memory, in the namespaces of a two-hub
region; the test plays Westshire's enquiry service, putting a request on Westshire's request topic for
`hub-eastshire` and reading Westshire's response topic for it (the same scenario on the real broker:
tests/integration/federation/test_neighbour_answers_real.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from mash_decision.bootstrap import DecisionService
from mash_decision.bootstrap import bootstrap as decision_bootstrap
from mash_decision.settings import DecisionSettings
from mash_runtime.auth import issue_token
from mash_runtime.clock import FixedClock
from mash_runtime.in_memory import no_topics, running_in_memory
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.region import Region
from mash_runtime.roles import Role
from mash_schemas import BragRating, EnquiryRequest, Referral, Subject
from mash_schemas.agency import agency_response_event_id
from mash_schemas.enquiry import EnquiryRequested
from mash_schemas.topics import REFERRAL_RECEIVED, agency_response_topic, enquiry_request_topic

from tests.support.service_harness import MONDAY_MORNING
from tests.support.transfer import RECEIVING, SENDING, received, two_hub_region
from tests.unit.decision.casebook import referral

pytestmark = pytest.mark.unit
AGENCY = f"hub-{SENDING}"
KAI = Subject(subject_id="s1", given_name="Kai", family_name="Turner", date_of_birth=date(2019, 4, 2))


def _recorder(kept: list[dict[str, Any]]) -> Callable[[Any], Awaitable[None]]:
    async def record(body: Any) -> None:
        kept.append(body if isinstance(body, dict) else json.loads(body))

    return record


def about_kai(referral_id: str, days_ago: int) -> Referral:
    """An Eastshire referral about Kai, received `days_ago` days before the fixed clock's start."""
    return referral(referral_id, received_at=MONDAY_MORNING - timedelta(days=days_ago),
                    suggested=BragRating.AMBER).model_copy(update={"subjects": [KAI]})


def westshire_request(request_id: str, subject: Subject = KAI) -> EnquiryRequested:
    """Westshire's research desk asking Eastshire, as it asks any agency."""
    request = EnquiryRequest(
        request_id=request_id, enquiry_id="ENQ-WEST-1", referral_id="WEST-REF-1", agency=AGENCY,
        subjects=[subject], due_at=MONDAY_MORNING + timedelta(hours=4), lawful_basis="Children Act 1989 s47",
        consent_position="not sought: risk of significant harm")
    return EnquiryRequested.build(request, correlation_id="WEST-REF-1", producer="enquiry")


@dataclass
class Eastshire:
    """Eastshire's decision service, running, and what it answered on Westshire's response topic."""

    region: Region
    service: DecisionService
    http: httpx.AsyncClient
    broker: Any
    answers: list[dict[str, Any]]

    def staff(self, role: Role) -> dict[str, str]:
        secret = self.service.runtime.settings.jwt_secret.get_secret_value()
        return {"Authorization": f"Bearer {issue_token(secret, f'Mo ({role.value})', [role])}"}

    async def ask(self, event: EnquiryRequested) -> None:
        """Put Westshire's request on Westshire's request topic for hub-eastshire, and let the relay run."""
        topic = self.region.hub(RECEIVING).topic(enquiry_request_topic(AGENCY))
        await self.broker.publish(event.model_dump_json(), topic, key=event.correlation_id.encode())
        await self.service.runtime.relay.publish_pending()


@pytest.fixture
async def eastshire(tmp_path: Path) -> AsyncIterator[Eastshire]:
    region, region_file = two_hub_region("unit", tmp_path)
    service = decision_bootstrap(
        DecisionSettings(environment="test", topic_namespace=region.hub(SENDING).namespace, log_level="WARNING",
                         region_file=region_file, route_allocated_automatically=False),
        database=as_database(MemoryDatabase("east_decision")), clock=FixedClock(MONDAY_MORNING),
        topic_admin=no_topics)
    answers: list[dict[str, Any]] = []
    service.runtime.broker.subscriber(region.hub(RECEIVING).topic(agency_response_topic(AGENCY)))(_recorder(answers))
    async with (running_in_memory(service.runtime) as broker,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://east") as http):
        yield Eastshire(region, service, http, broker, answers)

# Eastshire's decisions say what Kai and his parents think, as every hub requires (issue 23).
VOICE = {"child": {"known": True, "views": "Kai wants to stay with his mum."},
         "parents": {"known": True, "views": "Mum accepts help from early help."}}


async def test_eastshire_answers_from_its_records_once_and_its_manager_sees_every_answer(
        eastshire: Eastshire) -> None:
    east_ns = eastshire.region.hub(SENDING)
    for case in (about_kai("EAST-OLD", 200), about_kai("EAST-NOW", 1), about_kai("EAST-LONG-AGO", 500)):
        await eastshire.broker.publish(received(case).model_dump_json(), east_ns.topic(REFERRAL_RECEIVED),
                                       key=case.referral_id.encode())
    manager = eastshire.staff(Role.MANAGER)
    assert (await eastshire.http.post("/cases/EAST-OLD/screening", json={"rating": "red", "rationale": "bruising"},
                                      headers=manager)).status_code == 200
    decided = await eastshire.http.post("/cases/EAST-OLD/decision", headers=manager, json={
        "outcome": "child_protection", "rationale": "Unexplained bruising; strategy discussion held.",
        "childs_voice": VOICE})
    assert decided.status_code == 202, decided.text

    # long ago and closed: outside the twelve months (an open case would be reported however old)
    assert (await eastshire.http.post("/cases/EAST-LONG-AGO/screening", json={"rating": "amber"},
                                      headers=manager)).status_code == 200
    assert (await eastshire.http.post("/cases/EAST-LONG-AGO/decision", headers=manager, json={
        "outcome": "no_further_action", "rationale": "Information only.", "childs_voice": VOICE})).status_code == 202

    request_id = f"REQ-{uuid.uuid4().hex[:8]}"
    await eastshire.ask(westshire_request(request_id))
    await eastshire.ask(westshire_request(request_id))  # a reminder of the same request: answered once

    [answered] = eastshire.answers
    assert answered["event_type"] == "agency.response"
    assert answered["event_id"] == str(agency_response_event_id(request_id, AGENCY))
    answer = answered["payload"]
    assert (answer["agency"], answer["outcome"], answer["rating"]) == (AGENCY, "information_held", "red")
    items = {item["item_id"]: item for item in answer["items"]}
    assert set(items) == {"contacts-12-months", "outcome-EAST-OLD", "open-EAST-NOW"}
    assert "2 contact(s)" in items["contacts-12-months"]["summary"]
    outcome = items["outcome-EAST-OLD"]
    assert outcome["sensitivity"] == "sensitive" and "child protection" in outcome["summary"]
    assert outcome["release"]["permitted"] is True
    assert "child protection" not in outcome["release"]["permitted_wording"]
    assert items["open-EAST-NOW"]["sensitivity"] == "non_sensitive"

    # a family Eastshire does not know: nothing known
    await eastshire.ask(westshire_request("REQ-STRANGER", Subject(
        subject_id="s9", given_name="Ivy", family_name="Marsh", date_of_birth=date(2020, 1, 5))))
    assert eastshire.answers[-1]["payload"]["outcome"] == "nothing_known"

    # the manager lists every answer given (the screener may not); each is audited as a disclosure
    assert (await eastshire.http.get("/neighbour-answers", headers=eastshire.staff(Role.SCREENER))).status_code == 403
    listed = (await eastshire.http.get("/neighbour-answers", headers=manager)).json()
    assert sorted((given["asked_by"], given["answer"]["request_id"]) for given in listed) == sorted([
        (RECEIVING, "REQ-STRANGER"), (RECEIVING, request_id)])
    audit = eastshire.service.runtime.audit
    disclosures = [record async for record in audit.collection.find({"action": "neighbour_disclosure"})]
    assert sorted(record["what"]["request_id"] for record in disclosures) == sorted(["REQ-STRANGER", request_id])
