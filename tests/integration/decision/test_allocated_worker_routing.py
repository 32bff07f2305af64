"""SCENARIOS #6, already allocated: a referral about a child with an allocated social worker goes straight
to that worker (decision.made, outcome allocated_worker) with no enquiry; by the hub's routing rule when
its configuration says so, otherwise by a screener's (or manager's) routing step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mash_schemas import AllocatedWorker, BragRating
from mash_schemas.envelope import derived_event_id
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, REFERRAL_RECEIVED

from tests.integration.decision.desk_harness import (
    REFERRALS_GROUP,
    desk_settings,
    referral,
    referral_received,
    running_desk,
)
from tests.support.infrastructure import Infrastructure

WORKER = AllocatedWorker(name="Priya Desai", team="Exmouth Children in Need Team 2",
                         email="priya.desai@westshire.example.gov.uk")


async def test_an_allocated_child_is_routed_to_the_worker_automatically_once(
    infrastructure: Infrastructure, namespace: str
) -> None:
    async with running_desk(desk_settings(infrastructure, namespace)) as desk:
        allocated = referral("scenario-6-already-allocated.json", rating=BragRating.GREEN, allocated_worker=WORKER)
        rid = allocated.referral_id
        received = referral_received(allocated)
        first = await desk.publish(REFERRAL_RECEIVED, received)
        routed = await desk.case_in(rid, "routed_to_allocated_worker")

        [made] = await desk.events(DECISION_MADE, rid)
        assert made["event_id"] == str(derived_event_id(f"DEC-{rid}", "made"))
        decision = made["payload"]
        assert decision["outcome"] == "allocated_worker"
        assert decision["route"] == "allocated_worker"
        assert decision["receiving_service"] == "allocated-worker"
        assert decision["allocated_worker"]["name"] == "Priya Desai"
        assert decision["decided_by"] == "hub routing rule"
        assert decision["agencies_consulted"] == []
        # "within minutes" (SCENARIOS #6): decided as the referral arrived
        assert datetime.fromisoformat(decision["decided_at"]) - allocated.received_at < timedelta(minutes=1)
        assert routed["case_file"]["enquiry"] is None
        assert rid not in {entry["referral_id"] for entry in await desk.queue()}

        # nothing left for the desk to do on it, and a redelivered referral routes nothing twice
        screening = await desk.step(rid, "screening", {"rating": "green"}, as_=desk.screener)
        assert screening.status_code == 409
        again = await desk.publish(REFERRAL_RECEIVED, received)
        await desk.applied(REFERRALS_GROUP, REFERRAL_RECEIVED, again)
        assert first[1] < again[1]
        assert len(await desk.events(DECISION_MADE, rid)) == 1
        assert await desk.events(ENQUIRY_OPENED, rid) == []


async def test_without_the_routing_rule_a_screener_routes_an_allocated_child(
    infrastructure: Infrastructure, namespace: str
) -> None:
    settings = desk_settings(infrastructure, namespace, route_allocated_automatically=False)
    async with running_desk(settings) as desk:
        allocated = referral("scenario-6-already-allocated.json", rating=BragRating.GREEN, allocated_worker=WORKER,
                             received_at=datetime.now(UTC))
        rid = allocated.referral_id
        await desk.publish(REFERRAL_RECEIVED, referral_received(allocated))
        await desk.case_in(rid, "awaiting_screening")

        assert (await desk.step(rid, "routing", {}, as_=desk.analyst)).status_code == 403
        # routing is a screening step: a screener may take it (mash_decision.domain.roles)
        routed = await desk.step(rid, "routing", {"rationale": "Known to Priya Desai; she will visit this week."},
                                 as_=desk.screener)
        assert routed.status_code == 202, routed.text
        assert routed.json()["state"] == "routed_to_allocated_worker"

        [made] = await desk.events(DECISION_MADE, rid)
        assert made["payload"]["outcome"] == "allocated_worker"
        assert made["payload"]["decided_by"] == "Jo Reed (screener)"
        assert made["payload"]["rationale"] == "Known to Priya Desai; she will visit this week."
        assert [r["action"] for r in await desk.audit(rid) if r["action"] != "view_case_file"] == [
            "route_to_allocated_worker"]
