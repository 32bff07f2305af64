"""Subject access and "who looked" on the decision service, through its real bootstrap (issue 15).

`SubjectAccessScenarios` runs in memory here and on the real broker and store in
tests/integration/decision/test_subject_access_real.py. The other services' parts are published as they
would publish them; tests/integration/test_subject_access_all_services.py carries the same request through
all five services' real bootstraps.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.domain.subject_access import one_calendar_month
from mash_decision.settings import DecisionSettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_schemas.referral import SubjectMatch
from mash_schemas.subject_access import (
    HeldItem,
    ReleasePermissionAnswer,
    SubjectAccessPart,
    SubjectAccessPartAnswered,
    SubjectAccessPermissionAnswered,
    WithheldItem,
)
from mash_schemas.topics import (
    ENQUIRY_COMPLETED,
    REFERRAL_RECEIVED,
    SUBJECT_ACCESS_PART,
    SUBJECT_ACCESS_PERMISSION_ANSWERED,
    SUBJECT_ACCESS_PERMISSION_REQUESTED,
    SUBJECT_ACCESS_REQUESTED,
)

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.decision.casebook import item
from tests.unit.decision.test_decision_use_cases import SECRET, a_referral, case_in, completed, received, step

Hub = RunningService[DecisionService]
OUTPUTS = (SUBJECT_ACCESS_REQUESTED, SUBJECT_ACCESS_PART, SUBJECT_ACCESS_PERMISSION_REQUESTED)


def as_(hub: Hub, role: Role, who: str = "Jo") -> dict[str, str]:
    """A bearer header for `who` in `role` (an agency user belongs to the police)."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), who, [role],
                        agency="police" if role is Role.AGENCY else None)
    return {"Authorization": f"Bearer {token}"}


KAI = {"given_name": "Kai", "family_name": "Turner", "person_ref": "LA-991", "reason": "Kai's mother asked for a copy"}


async def a_decided_case_with_a_sealed_police_item(hub: Hub, rid: str) -> None:
    """Scenario 1 with Kai matched to person LA-991, screened, enquired, police's sealed item on it."""
    known = a_referral(rid).model_copy(update={"matches": [SubjectMatch(subject_id="s1", person_ref="LA-991",
                                                                         confidence=0.97)]})
    await hub.publish(received(known), REFERRAL_RECEIVED)
    await case_in(hub, rid, "awaiting_screening")
    assert (await step(hub, rid, "screening", {"rating": "amber"}, Role.SCREENER))[0] == 200
    status, _ = await step(hub, rid, "enquiry", {"agencies": ["health", "police"], "consent_check": "given"},
                           Role.MANAGER)
    assert status == 202
    await hub.publish(completed(rid, sealed=item("pol-1", SECRET, sensitive=True)), ENQUIRY_COMPLETED)
    await case_in(hub, rid, "awaiting_decision")


def part_of(service: str, request_id: str, items: list[HeldItem], withheld: list[WithheldItem]) -> Any:
    """Another service's part, as `mash_runtime.subject_access` publishes it."""
    return SubjectAccessPartAnswered.build(
        SubjectAccessPart(request_id=request_id, service=service, answered_at=MONDAY_MORNING, items=items,
                          withheld=withheld),
        correlation_id=request_id, producer=service)


async def the_other_parts(hub: Hub, request_id: str, rid: str) -> None:
    """intake, enquiry, notify and insight answer; enquiry names police's sealed item by reference only."""
    contact = HeldItem(item_id=rid, kind="contact", referral_id=rid, summary="Contact about Kai.",
                       third_parties=["Sam Reed (referrer)"])
    await hub.publish(part_of("intake", request_id, [contact], []), SUBJECT_ACCESS_PART, key=request_id)
    await hub.publish(part_of("enquiry", request_id, [], [WithheldItem(agency="police", item_id="pol-1",
                                                                       referral_id=rid)]),
                      SUBJECT_ACCESS_PART, key=request_id)
    await hub.publish(part_of("notify", request_id, [], []), SUBJECT_ACCESS_PART, key=request_id)
    await hub.publish(part_of("insight", request_id, [], []), SUBJECT_ACCESS_PART, key=request_id)


async def export(hub: Hub, request_id: str, role: Role = Role.MANAGER) -> tuple[int, dict[str, Any]]:
    """The assembled answer as `role` asks for it."""
    response = await hub.http.get(f"/subject-access-requests/{request_id}",
                                  params={"reason": "replying to the request"}, headers=as_(hub, role))
    return response.status_code, response.json()


def test_the_deadline_is_one_calendar_month() -> None:
    assert one_calendar_month(date(2026, 3, 2)) == date(2026, 4, 2)
    assert one_calendar_month(date(2026, 1, 31)) == date(2026, 2, 28)
    assert one_calendar_month(date(2028, 1, 31)) == date(2028, 2, 29)
    assert one_calendar_month(date(2026, 12, 15)) == date(2027, 1, 15)


pytestmark = pytest.mark.unit


class SubjectAccessScenarios:
    """Subject access and the audit report, wherever the service runs."""

    async def test_only_a_manager_may_start_one(self, hub: Hub) -> None:
        for role in (Role.AGENCY, Role.ANALYST, Role.SCREENER):
            response = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, role))
            assert response.status_code == 403, role
        no_reason = {key: value for key, value in KAI.items() if key != "reason"}
        response = await hub.http.post("/subject-access-requests", json=no_reason, headers=as_(hub, Role.MANAGER))
        assert response.status_code == 422
        assert hub.published(SUBJECT_ACCESS_REQUESTED) == []

    async def test_a_request_assembles_every_part_marks_third_parties_and_sealed_items_and_is_audited(
        self, hub: Hub
    ) -> None:
        rid = "MASH-SAR-1"
        await a_decided_case_with_a_sealed_police_item(hub, rid)
        response = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, Role.MANAGER, "Max"))
        assert response.status_code == 201, response.text
        started = response.json()
        request_id = started["request_id"]
        assert started["referral_ids"] == [rid]
        assert started["due_on"] == "2026-04-02"  # one calendar month from Monday 2 March

        requested = await hub.eventually(lambda: [e for e in hub.published(SUBJECT_ACCESS_REQUESTED)
                                                  if e["payload"]["request_id"] == request_id])
        assert requested[0]["payload"]["referral_ids"] == [rid]
        # Decision answers its own part like every service; the sealed text is never on the topic.
        own = await hub.eventually(lambda: [e for e in hub.published(SUBJECT_ACCESS_PART)
                                            if e["payload"]["service"] == "decision"])
        assert SECRET not in json.dumps(own)
        assert {"agency": "police", "item_id": "pol-1", "referral_id": rid,
                "reason": "sealed: release needs the supplying agency's permission"} in own[0]["payload"]["withheld"]

        await the_other_parts(hub, request_id, rid)

        async def assembled() -> dict[str, Any] | None:
            status, body = await export(hub, request_id)
            assert status == 200, body
            return body if body["complete"] else None

        answer = await hub.eventually(assembled)
        assert answer["parts_received"] == ["decision", "enquiry", "insight", "intake", "notify"]
        assert SECRET not in json.dumps(answer)
        referral_item = next(i for i in answer["items"] if i["item_id"] == f"{rid}/referral")
        assert referral_item["third_parties"] == ["Dee Turner", "Sam Reed (referrer)"]
        assert referral_item["redaction_review"] == ["names other people: Dee Turner, Sam Reed (referrer)"]
        gp_note = next(i for i in answer["items"] if i["item_id"] == f"{rid}/health:gp-1")
        assert gp_note["third_parties"] == ["mother"]
        sealed = [w for w in answer["withheld"] if w["item_id"] == "pol-1"]
        assert {w["service"] for w in sealed} == {"decision", "enquiry"}
        assert all(w["shown_as"] == "withheld until police gives permission" for w in sealed)
        assert all(w["redaction_review"] == ["sealed item supplied by an agency"] for w in sealed)
        assert [(p["permission_id"], p["status"]) for p in answer["permission_requests"]] == [
            (f"{request_id}:police:pol-1", "awaiting_agency")]
        assert (await export(hub, request_id, Role.ANALYST))[0] == 403

        report = await hub.http.get("/audit", params={"person_ref": "LA-991"}, headers=as_(hub, Role.MANAGER))
        done = [(r["who"], r["roles"], r["action"], r["why"]) for r in report.json()
                if r["action"].startswith("subject_access")]
        assert ("Max", "manager", "subject_access.start", "Kai's mother asked for a copy") in done
        assert ("Jo", "manager", "subject_access.export", "replying to the request") in done
        assert ("Max", "manager", "subject_access.search", f"subject access request {request_id}") in done

    async def test_the_supplying_agency_is_asked_and_its_permission_releases_the_sealed_item(self, hub: Hub) -> None:
        rid = "MASH-SAR-2"
        await a_decided_case_with_a_sealed_police_item(hub, rid)
        started = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, Role.MANAGER, "Max"))
        request_id = started.json()["request_id"]
        permission_id = f"{request_id}:police:pol-1"
        asked = await hub.eventually(lambda: [e["payload"] for e in hub.published(SUBJECT_ACCESS_PERMISSION_REQUESTED)
                                              if e["payload"]["request_id"] == request_id])
        assert asked[0] == {"permission_id": permission_id, "request_id": request_id, "agency": "police",
                            "item_id": "pol-1", "referral_id": rid, "due_on": "2026-04-02",
                            "requested_at": asked[0]["requested_at"]}
        assert SECRET not in json.dumps(hub.published(SUBJECT_ACCESS_PERMISSION_REQUESTED))
        await the_other_parts(hub, request_id, rid)
        # Asked once per item, though decision's and enquiry's parts both name it.
        async def complete() -> bool:
            return bool((await export(hub, request_id))[1]["complete"])

        await hub.eventually(complete)
        await hub.flush()
        assert len({e["payload"]["permission_id"] for e in hub.published(SUBJECT_ACCESS_PERMISSION_REQUESTED)
                    if e["payload"]["request_id"] == request_id}) == 1

        answered = SubjectAccessPermissionAnswered.build(ReleasePermissionAnswer(
            permission_id=permission_id, request_id=request_id, agency="police", item_id="pol-1", permitted=True,
            answered_by="DS Hart (police)", answered_at=MONDAY_MORNING), correlation_id=request_id, producer="enquiry")
        await hub.publish(answered, SUBJECT_ACCESS_PERMISSION_ANSWERED, key=request_id)

        async def released() -> dict[str, Any] | None:
            body = (await export(hub, request_id))[1]
            return body if any(w.get("released") for w in body["withheld"]) else None

        answer = await hub.eventually(released)
        from_decision = next(w for w in answer["withheld"] if w["service"] == "decision")
        assert from_decision["shown_as"] == "released with police's permission"
        assert from_decision["released"] == {"about": "father", "summary": SECRET}
        report = await hub.http.get("/audit", params={"referral_id": rid}, headers=as_(hub, Role.MANAGER))
        assert [(r["who"], r["why"], r["what"]["item_id"]) for r in report.json()
                if r["action"] == "subject_access.release"] == [("Jo", "replying to the request", "pol-1")]

    async def test_the_deadline_is_shown_due_then_overdue(self, hub: Hub) -> None:
        response = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, Role.MANAGER))
        request_id = response.json()["request_id"]

        async def timing() -> str:
            listing = await hub.http.get("/subject-access-requests", headers=as_(hub, Role.MANAGER))
            entry = next(e for e in listing.json() if e["request_id"] == request_id)
            assert entry["due_on"] == "2026-04-02"
            return str(entry["timing"])

        assert await timing() == "due"
        hub.clock.advance(days=31)  # Thursday 2 April: the due day itself
        assert await timing() == "due"
        hub.clock.advance(days=1)
        assert await timing() == "overdue"

    async def test_a_manager_extends_the_deadline_once_with_a_reason_and_it_is_audited(self, hub: Hub) -> None:
        started = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, Role.MANAGER, "Max"))
        request_id = started.json()["request_id"]
        path = f"/subject-access-requests/{request_id}/extension"
        why = {"reason": "Complex: records across five services and three agencies"}
        for role in (Role.AGENCY, Role.ANALYST, Role.SCREENER):
            assert (await hub.http.post(path, json=why, headers=as_(hub, role))).status_code == 403, role
        no_reason = await hub.http.post(path, json={}, headers=as_(hub, Role.MANAGER))
        assert no_reason.status_code == 422
        assert [f["field"] for f in no_reason.json()["fields"]] == ["reason"]
        unknown = await hub.http.post("/subject-access-requests/SAR-NONE/extension", json=why,
                                      headers=as_(hub, Role.MANAGER))
        assert unknown.status_code == 404

        hub.clock.advance(days=10)  # Thursday 12 March, within the first month
        extended = await hub.http.post(path, json=why, headers=as_(hub, Role.MANAGER, "Max"))
        assert extended.status_code == 200, extended.text
        assert extended.json()["due_on"] == "2026-06-02"  # three calendar months from Monday 2 March
        assert extended.json()["extension"] == {"reason": why["reason"], "by": "Max",
                                                "at": "2026-03-12T09:30:00Z", "original_due_on": "2026-04-02"}
        again = await hub.http.post(path, json={"reason": "still more"}, headers=as_(hub, Role.MANAGER))
        assert again.status_code == 409 and "only once" in again.json()["message"]

        listing = await hub.http.get("/subject-access-requests", headers=as_(hub, Role.MANAGER))
        entry = next(e for e in listing.json() if e["request_id"] == request_id)
        assert (entry["due_on"], entry["extension"]["original_due_on"]) == ("2026-06-02", "2026-04-02")
        hub.clock.advance(days=60)  # 11 May: past the first month, within the extension
        assert (await export(hub, request_id))[1]["timing"] == "due"

        report = await hub.http.get("/audit", params={"person_ref": "LA-991"}, headers=as_(hub, Role.MANAGER))
        extensions = [(r["who"], r["roles"], r["why"], r["what"]["original_due_on"], r["what"]["due_on"])
                      for r in report.json() if r["action"] == "subject_access.extend"]
        assert extensions == [("Max", "manager", why["reason"], "2026-04-02", "2026-06-02")]

    async def test_an_overdue_request_cannot_be_extended(self, hub: Hub) -> None:
        started = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, Role.MANAGER))
        request_id = started.json()["request_id"]
        hub.clock.advance(days=32)  # Friday 3 April: the day after the due day
        refused = await hub.http.post(f"/subject-access-requests/{request_id}/extension",
                                      json={"reason": "Complex request"}, headers=as_(hub, Role.MANAGER))
        assert refused.status_code == 409 and "within the first month" in refused.json()["message"]
        listing = await hub.http.get("/subject-access-requests", headers=as_(hub, Role.MANAGER))
        entry = next(e for e in listing.json() if e["request_id"] == request_id)
        assert (entry["due_on"], entry["timing"], entry["extension"]) == ("2026-04-02", "overdue", None)
        actions = [r["action"] async for r in hub.database["audit"].find({"action": "subject_access.extend"})]
        assert actions == []

    async def test_who_looked_lists_exactly_the_views_and_releases_made(self, hub: Hub) -> None:
        rid = "MASH-WHO-1"
        await hub.publish(received(a_referral(rid)), REFERRAL_RECEIVED)
        await case_in(hub, rid, "awaiting_screening")  # the harness's own looks, as "Jo (manager)", "use-case test"
        views = [("Ann", Role.SCREENER, "screening the contact"), ("Max", Role.MANAGER, "checking the rating"),
                 ("Ivy", Role.ANALYST, "quality audit")]
        for who, role, why in views:
            hub.clock.advance(minutes=5)
            response = await hub.http.get(f"/cases/{rid}", params={"reason": why}, headers=as_(hub, role, who))
            assert response.status_code == 200
        hub.clock.advance(days=2)  # Wednesday: the screening decision
        assert (await step(hub, rid, "screening", {"rating": "amber", "rationale": "agreed"}, Role.SCREENER))[0] == 200

        report = await hub.http.get("/audit", params={"referral_id": rid, "from": "2026-03-01", "to": "2026-03-31"},
                                    headers=as_(hub, Role.MANAGER, "Dora (DPO)"))
        assert report.status_code == 200
        rows = [(r["who"], r["roles"], r["action"], r["why"]) for r in report.json()]
        harness = [row for row in rows if row[0] == "Jo (manager)"]
        assert harness and set(harness) == {("Jo (manager)", "manager", "view_case_file", "use-case test")}
        assert rows[len(harness):] == [("Ann", "screener", "view_case_file", "screening the contact"),
                                       ("Max", "manager", "view_case_file", "checking the rating"),
                                       ("Ivy", "analyst", "view_case_file", "quality audit"),
                                       ("Jo (screener)", "screener", "screen", "agreed")]
        only_monday = await hub.http.get("/audit", params={"referral_id": rid, "to": "2026-03-02"},
                                         headers=as_(hub, Role.MANAGER))
        assert [(r["who"], r["action"]) for r in only_monday.json()][-1] == ("Ivy", "view_case_file")
        for role in (Role.AGENCY, Role.ANALYST, Role.SCREENER):
            refused = await hub.http.get("/audit", params={"referral_id": rid}, headers=as_(hub, role))
            assert refused.status_code == 403
        reads = [r async for r in hub.database["audit"].find({"action": "audit.read"})]
        # The report's own reads, audited apart (same clock time: the store keeps no order between them).
        assert sorted(r["who"] for r in reads) == ["Dora (DPO)", "Jo"]


class TestSubjectAccessInMemory(InMemory[DecisionService], SubjectAccessScenarios):
    """Subject access on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS
