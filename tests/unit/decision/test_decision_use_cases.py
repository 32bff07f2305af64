"""The manager's desk (desk.py) through the decision service's real bootstrap: referral to decision.

`DecisionScenarios` holds the use cases; `TestDecisionInMemory` runs them on a MemoryDatabase and
TestKafkaBroker (no server), tests/integration/decision/test_decision_use_cases_real.py on the real
broker and store. Time is the harness's FixedClock: a timescale is reached by moving it and calling
the clock watcher, never by waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_runtime.transit import DEVELOPMENT_TRANSIT_PUBLIC_KEY, TransitSealer
from mash_schemas import AgencyFindings, AllocatedWorker, BragRating, EnquiryOutcome, InformationItem, Referral
from mash_schemas.enquiry import EnquiryCompleted
from mash_schemas.referral import ReferralReceived
from mash_schemas.topics import DEAD_LETTER, DECISION_MADE, ENQUIRY_COMPLETED, ENQUIRY_OPENED, REFERRAL_RECEIVED
from mash_schemas.topics import TIMESCALE_ALERT as CASE_TIMESCALE

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.decision.casebook import item, referral

Hub = RunningService[DecisionService]
SECRET = "Police intelligence: the mother's partner is on bail for a violent offence."
OUTPUTS = (ENQUIRY_OPENED, DECISION_MADE, CASE_TIMESCALE, DEAD_LETTER)
# Every hub refuses a decision that does not say whether the child's and the parents' views are known (issue 23).
CHILDS_VOICE = {"child": {"known": True, "views": "Kai says he feels safe at his nan's."},
                "parents": {"known": True, "views": "His mother wants help with her partner."}}
# A hub's own timescales file (settings.timescales_file), read by the bootstrap instead of the packaged one.
RED_IN_TWO_HOURS = Path(__file__).with_name("timescales-red-in-two-hours.yaml")


# --- what the tests send, as intake and the research desk would -------------------------------------------


def a_referral(referral_id: str, rating: BragRating = BragRating.AMBER, *,
               allocated_worker: AllocatedWorker | None = None, received_at: datetime = MONDAY_MORNING) -> Referral:
    """Scenario 1's referral, received at the fixed clock's start unless said otherwise."""
    return referral(referral_id, received_at=received_at, suggested=rating, allocated_worker=allocated_worker)


def received(case: Referral) -> ReferralReceived:
    """intake's referral.received."""
    return ReferralReceived.build(case, correlation_id=case.referral_id, producer="intake")


def completed(referral_id: str, *, sealed: InformationItem | None = None,
              not_answered: list[str] | None = None) -> EnquiryCompleted:
    """The research desk's outcome for the case's enquiry: health amber with a GP note; police's sealed item,
    encrypted for the decision service as the enquiry service sends it."""
    health = AgencyFindings(agency="health", outcome="information_held", rating=BragRating.AMBER,
                            responded_at=MONDAY_MORNING,
                            items=[item("gp-1", "Mother missed two recent GP appointments.", about="mother")])
    encrypted = ([TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal(referral_id, "police", sealed)]
                 if sealed is not None else [])
    outcome = EnquiryOutcome(
        enquiry_id=f"ENQ-{referral_id}", referral_id=referral_id, completed_at=MONDAY_MORNING,
        completion="due_time_passed" if not_answered else "all_answered", findings=[health],
        encrypted=encrypted, not_answered=not_answered or [])
    return EnquiryCompleted.build(outcome, correlation_id=referral_id, producer="enquiry")


# --- the desk's staff -------------------------------------------------------------------------------------


def as_(hub: Hub, role: Role) -> dict[str, str]:
    """A bearer header for a member of staff in `role`."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), f"Jo ({role.value})", [role])
    return {"Authorization": f"Bearer {token}"}


async def case_file(hub: Hub, referral_id: str, role: Role = Role.MANAGER) -> dict[str, Any] | None:
    """The case file as `role` sees it, or None while there is none."""
    response = await hub.http.get(f"/cases/{referral_id}", params={"reason": "use-case test"}, headers=as_(hub, role))
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def case_in(hub: Hub, referral_id: str, state: str) -> dict[str, Any]:
    """Wait until the case file is in `state`; returns the manager's view."""
    async def probe() -> dict[str, Any] | None:
        view = await case_file(hub, referral_id)
        return view if view is not None and view["case_file"]["state"] == state else None

    return await hub.eventually(probe)


async def step(hub: Hub, referral_id: str, what: str, body: dict[str, Any], role: Role) -> tuple[int, Any]:
    """POST a desk step as `role`: (status, JSON body)."""
    response = await hub.http.post(f"/cases/{referral_id}/{what}", json=body, headers=as_(hub, role))
    return response.status_code, response.json()


def about(hub: Hub, base_topic: str, referral_id: str) -> list[dict[str, Any]]:
    """The events the service published on `base_topic` about one referral, each once, as a consumer keeps them.

    The outbox relay publishes at least once and consumers skip an event id they have seen, so repeats are
    dropped here as a consumer would drop them.
    """
    kept: dict[str, dict[str, Any]] = {}
    for event in hub.published(base_topic):
        if event["correlation_id"] == referral_id:
            kept.setdefault(event["event_id"], event)
    return list(kept.values())


async def dead_letter(hub: Hub, base_topic: str, reason: str) -> dict[str, Any]:
    """Wait for the dead letter of a record from `base_topic` whose reason contains `reason`."""
    return await hub.dead_letter(base_topic, reason)


class DecisionScenarios:
    """The desk's use cases, wherever the service runs."""

    async def test_a_referral_goes_through_screening_and_an_enquiry_to_a_decision(self, hub: Hub) -> None:
        rid = "MASH-UC-1"
        await hub.publish(received(a_referral(rid)), REFERRAL_RECEIVED)
        opened = await case_in(hub, rid, "awaiting_screening")
        assert opened["timescale"]["status"] == "on_track"

        assert (await step(hub, rid, "screening", {"rating": "amber"}, Role.ANALYST))[0] == 403
        assert (await step(hub, rid, "screening", {"rating": "amber"}, Role.SCREENER))[0] == 200
        # The MASH manager opens enquiries; a screener may not.
        enquiry = {"agencies": ["health", "police"], "consent_check": "given"}
        assert (await step(hub, rid, "enquiry", enquiry, Role.SCREENER))[0] == 403
        status, body = await step(hub, rid, "enquiry", enquiry, Role.MANAGER)
        assert status == 202, body
        assert body["enquiry_id"] == f"ENQ-{rid}"
        [opened_event] = await hub.eventually(lambda: about(hub, ENQUIRY_OPENED, rid))
        assert opened_event["payload"]["agencies"] == ["health", "police"]

        sealed = item("pol-1", SECRET, sensitive=True, about="mother's partner")
        await hub.publish(completed(rid, sealed=sealed), ENQUIRY_COMPLETED)
        awaiting = await case_in(hub, rid, "awaiting_decision")
        assert awaiting["recommendation"]["rating"] == "amber"
        assert [w["key"] for w in awaiting["withheld_items"]] == ["police:pol-1"]
        analysts_view = await case_file(hub, rid, Role.ANALYST)
        assert analysts_view is not None
        assert SECRET not in str(analysts_view)  # sealed items stay inside the hub
        assert SECRET in str(awaiting)

        decision = {"outcome": "statutory_assessment", "rationale": "Assessment for Kai and his mother.",
                    "handoff_item_ids": ["health:gp-1"], "childs_voice": CHILDS_VOICE}
        assert (await step(hub, rid, "decision", decision, Role.SCREENER))[0] == 403
        refused, problem = await step(hub, rid, "decision", {**decision, "handoff_item_ids": ["police:pol-1"]},
                                      Role.MANAGER)
        assert refused == 422, problem
        hub.clock.advance(hours=2)
        status, made = await step(hub, rid, "decision", decision, Role.MANAGER)
        assert status == 202, made
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        payload = decided["payload"]
        assert payload["outcome"] == "statutory_assessment"
        assert payload["decided_at"].startswith(hub.clock().isoformat()[:19])  # the desk's time is its clock's
        assert payload["within_timescale"] is True
        assert [r["item_id"] for r in payload["released_items"]] == ["gp-1"]
        assert [w["item_id"] for w in payload["withheld_items"]] == ["pol-1"]
        assert SECRET not in str(decided)
        assert (await case_in(hub, rid, "decided"))["case_file"]["decision"]["decision_id"] == f"DEC-{rid}"

    async def test_a_child_with_an_allocated_worker_goes_straight_to_them(self, hub: Hub) -> None:
        worker = AllocatedWorker(name="Ruth Hale", team="Exeter North", email="ruth.hale@example.org")
        rid = "MASH-UC-2"
        await hub.publish(received(a_referral(rid, allocated_worker=worker)), REFERRAL_RECEIVED)

        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        assert decided["payload"]["outcome"] == "allocated_worker"
        assert decided["payload"]["allocated_worker"]["name"] == "Ruth Hale"
        assert decided["payload"]["decided_at"].startswith(MONDAY_MORNING.isoformat()[:19])
        await case_in(hub, rid, "routed_to_allocated_worker")

    async def test_the_clock_raises_one_alert_per_status_as_red_cases_near_and_pass_their_due_time(
        self, hub: Hub
    ) -> None:
        red, later_red, amber = "MASH-UC-RED", "MASH-UC-RED-2", "MASH-UC-AMBER"
        await hub.publish(received(a_referral(amber, BragRating.AMBER)), REFERRAL_RECEIVED)
        await hub.publish(received(a_referral(red, BragRating.RED)), REFERRAL_RECEIVED)
        await case_in(hub, red, "awaiting_screening")
        await case_in(hub, amber, "awaiting_screening")
        watch_clock = hub.service.desk.watch_clock

        await watch_clock()
        hub.clock.advance(hours=3, minutes=45)  # red: 4 hours continuous; 15 minutes left is near breach
        await watch_clock()
        await watch_clock()
        [near] = await hub.eventually(lambda: about(hub, CASE_TIMESCALE, red))
        assert near["payload"]["status"] == "near_breach"
        assert near["payload"]["working_minutes_left"] == 15

        # A second red referral, received ten minutes after the first; both pass their due time.
        second = a_referral(later_red, BragRating.RED, received_at=MONDAY_MORNING + timedelta(minutes=10))
        await hub.publish(received(second), REFERRAL_RECEIVED)
        await case_in(hub, later_red, "awaiting_screening")
        hub.clock.advance(minutes=35)
        for _ in range(3):  # the watcher passes over the breached cases again and again
            await watch_clock()

        def both_breached() -> list[dict[str, Any]] | None:
            found = [a for rid in (red, later_red) for a in about(hub, CASE_TIMESCALE, rid)
                     if a["payload"]["status"] == "breached"]
            return found if len(found) >= 2 else None

        await hub.eventually(both_breached)
        await hub.flush()
        alerts = about(hub, CASE_TIMESCALE, red)
        assert [a["payload"]["status"] for a in alerts] == ["near_breach", "breached"]
        assert [a["payload"]["status"] for a in about(hub, CASE_TIMESCALE, later_red)] == ["breached"]
        breach = alerts[1]
        assert breach["event_type"] == "case.timescale"
        assert breach["payload"]["rating"] == "red"
        assert breach["payload"]["target"] == "red target: 4 hours (continuous)"
        assert datetime.fromisoformat(breach["payload"]["due_at"]) == MONDAY_MORNING + timedelta(hours=4)
        assert breach["payload"]["working_minutes_left"] == -20
        if not hub.in_memory:  # one relay, one send per entry (in memory the harness's flush may race it)
            every_alert = hub.published(CASE_TIMESCALE)
            assert len({a["event_id"] for a in every_alert}) == len(every_alert)
        assert about(hub, CASE_TIMESCALE, amber) == []  # 24 working hours: on track

        queue = (await hub.http.get("/queue", headers=as_(hub, Role.SCREENER))).json()
        # breached first (the longer overdue leads), the amber on track after them
        assert [(e["referral_id"], e["status"]) for e in queue] == [
            (red, "breached"), (later_red, "breached"), (amber, "on_track")]
        assert queue[0]["time_left"] == "overdue by 0h 20m (continuous)"

    async def test_the_clock_sees_a_deadline_changed_since_it_last_looked(self, hub: Hub) -> None:
        # The clock opens a case file again only when its document changed (DecisionStore.open_deadlines): a
        # screener's re-rating, after the clock has looked once, must still bring the red deadline.
        rid = "MASH-UC-RERATED"
        await hub.publish(received(a_referral(rid, BragRating.AMBER)), REFERRAL_RECEIVED)
        await case_in(hub, rid, "awaiting_screening")
        watch_clock = hub.service.desk.watch_clock
        await watch_clock()
        assert (await step(hub, rid, "screening", {"rating": "red", "rationale": "Risk of immediate harm."},
                           Role.SCREENER))[0] == 200
        hub.clock.advance(hours=3, minutes=45)  # red: 4 hours continuous; amber's 24 working hours are far off
        await watch_clock()
        [near] = await hub.eventually(lambda: about(hub, CASE_TIMESCALE, rid))
        assert near["payload"]["status"] == "near_breach"
        assert near["payload"]["rating"] == "red"

    async def test_a_referral_or_an_enquiry_outcome_delivered_twice_is_applied_once(self, hub: Hub) -> None:
        rid = "MASH-UC-3"
        event = received(a_referral(rid))
        await hub.publish(event, REFERRAL_RECEIVED)
        await hub.publish(event, REFERRAL_RECEIVED)
        opened = await case_in(hub, rid, "awaiting_screening")
        assert len(opened["case_file"]["history"]) == 1

        assert (await step(hub, rid, "screening", {"rating": "amber"}, Role.SCREENER))[0] == 200
        enquiry = {"agencies": ["health"], "consent_check": "given"}
        assert (await step(hub, rid, "enquiry", enquiry, Role.MANAGER))[0] == 202
        outcome = completed(rid)
        await hub.publish(outcome, ENQUIRY_COMPLETED)
        recorded = await case_in(hub, rid, "awaiting_decision")
        await hub.publish(outcome, ENQUIRY_COMPLETED)
        await hub.publish(event, REFERRAL_RECEIVED)

        async def both_marked() -> dict[str, Any] | None:
            # The redeliveries have been seen: both event ids are in the case file's inbox (applied once).
            doc = await hub.database["case_files"].find_one({"_id": rid})
            marked = doc is not None and {str(event.event_id), str(outcome.event_id)} <= set(doc["_inbox"])
            return doc if marked else None

        await hub.eventually(both_marked)
        again = await case_file(hub, rid)
        assert again is not None
        assert again["case_file"]["history"] == recorded["case_file"]["history"]
        assert len(about(hub, ENQUIRY_OPENED, rid)) == 1

    async def test_a_poison_record_and_a_refused_outcome_are_dead_lettered_and_the_next_referral_applied(
        self, hub: Hub
    ) -> None:
        await hub.publish_raw(b"{this is not json", REFERRAL_RECEIVED, key=b"MASH-UC-4")
        letter = await dead_letter(hub, REFERRAL_RECEIVED, "")
        assert letter["error_type"] != "rejected"

        rid = "MASH-UC-4"
        await hub.publish(received(a_referral(rid)), REFERRAL_RECEIVED)
        before = await case_in(hub, rid, "awaiting_screening")
        # An outcome for an enquiry this case never opened: a rule refuses it, and retrying cannot help.
        await hub.publish(completed(rid), ENQUIRY_COMPLETED)
        refused = await dead_letter(hub, ENQUIRY_COMPLETED, f"was not opened on referral {rid}")
        assert refused["error_type"] == "rejected"
        after = await case_file(hub, rid)
        assert after is not None
        assert after["case_file"] == before["case_file"]

        # The partition keeps flowing: the referral's next steps and a proper outcome are applied.
        assert (await step(hub, rid, "screening", {"rating": "amber"}, Role.SCREENER))[0] == 200
        assert (await step(hub, rid, "enquiry", {"agencies": ["health"], "consent_check": "given"},
                           Role.MANAGER))[0] == 202
        await hub.publish(completed(rid), ENQUIRY_COMPLETED)
        await case_in(hub, rid, "awaiting_decision")


class HubsOwnTimescalesScenarios:
    """A hub's timescales file is what the desk's clock runs on."""

    async def test_the_red_target_comes_from_the_hubs_timescales_file(self, hub: Hub) -> None:
        rid = "MASH-UC-OWN"
        await hub.publish(received(a_referral(rid, BragRating.RED)), REFERRAL_RECEIVED)
        view = await case_in(hub, rid, "awaiting_screening")
        assert datetime.fromisoformat(view["timescale"]["due_at"]) == MONDAY_MORNING + timedelta(hours=2)

        hub.clock.advance(hours=2)
        await hub.service.desk.watch_clock()
        [breach] = await hub.eventually(lambda: about(hub, CASE_TIMESCALE, rid))
        assert breach["payload"]["status"] == "breached"
        assert breach["payload"]["target"] == "red target: 2 hours (continuous)"


class TestDecisionInMemory(InMemory[DecisionService], DecisionScenarios):
    """The desk's use cases on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS


class TestHubsOwnTimescalesInMemory(InMemory[DecisionService], HubsOwnTimescalesScenarios):
    """The desk on a hub's own timescales file, in memory."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    settings_overrides = {"timescales_file": RED_IN_TWO_HOURS}
    outputs = OUTPUTS


pytestmark = pytest.mark.unit
