"""Quality assurance (quality_assurance.py) through the decision service's real bootstrap, in memory.

Cases decided this week are drawn in the week's dip sample; a practice lead reads one, audits it, and the
manager who decided reads the audit. Every look is in the audit log; the event carries no learning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings
from mash_runtime.roles import Role
from mash_schemas import AllocatedWorker
from mash_schemas.subject_access import PersonIdentifiers, SubjectAccessRequest
from mash_schemas.topics import QUALITY_AUDIT_RECORDED, REFERRAL_RECEIVED, SUBJECT_ERASED

from tests.support.retention_scenarios import erased_elsewhere, what_remains
from tests.support.service_harness import InMemory, RunningService
from tests.unit.decision.test_decision_use_cases import a_referral, as_, case_in, received

Hub = RunningService[DecisionService]
LEARNING = "The decision was sound; the child's voice was recorded well."
WORKER = AllocatedWorker(name="Ruth Hale", team="Exeter North", email="ruth.hale@example.org")


async def decided_cases(hub: Hub, count: int, prefix: str = "MASH-QA") -> list[str]:
    """`count` referrals routed to their allocated worker, so decided this week."""
    ids = [f"{prefix}-{n}" for n in range(count)]
    for rid in ids:
        await hub.publish(received(a_referral(rid, allocated_worker=WORKER)), REFERRAL_RECEIVED)
    for rid in ids:
        await case_in(hub, rid, "routed_to_allocated_worker")
    return ids


async def sample(hub: Hub, role: Role = Role.PRACTICE_LEAD, **params: str) -> tuple[int, Any]:
    response = await hub.http.get("/quality-assurance/dip-sample", params=params, headers=as_(hub, role))
    return response.status_code, response.json()


class QualityAssuranceScenarios:
    """The dip sample and its audits, wherever the service runs."""

    async def test_a_practice_lead_audits_a_case_of_the_weeks_sample_and_the_manager_reads_it(self, hub: Hub) -> None:
        ids = await decided_cases(hub, 12)
        assert (await sample(hub, Role.MANAGER))[0] == 403
        status, week = await sample(hub)
        assert status == 200, week
        # 10% of 12 allocated-worker routings, rounded up: two; drawn the same again.
        assert week["decided_by_outcome"] == {"allocated_worker": 12}
        drawn = [case["referral_id"] for case in week["cases"]]
        assert len(drawn) == 2 and set(drawn) <= set(ids)
        assert (await sample(hub))[1]["cases"] == week["cases"]
        assert (await sample(hub, week=week["week"]))[1]["cases"] == week["cases"]

        chosen = drawn[0]
        lead = as_(hub, Role.PRACTICE_LEAD)
        viewed = await hub.http.get(f"/quality-assurance/cases/{chosen}", params={"reason": "dip sample audit"},
                                    headers=lead)
        assert viewed.status_code == 200, viewed.text
        assert viewed.json()["case_file"]["referral"]["referral_id"] == chosen
        not_drawn = next(rid for rid in ids if rid not in drawn)
        assert (await hub.http.get(f"/quality-assurance/cases/{not_drawn}", headers=lead)).status_code == 404

        bad = await hub.http.post(f"/quality-assurance/cases/{chosen}/audit", headers=lead,
                                  json={"agrees_with_decision": True, "grade": "excellent", "learning": LEARNING})
        assert bad.status_code == 422
        assert "grade" in bad.text
        audit = {"agrees_with_decision": False, "grade": "requires_improvement", "learning": LEARNING}
        refused = await hub.http.post(f"/quality-assurance/cases/{not_drawn}/audit", headers=lead, json=audit)
        assert refused.status_code == 404, refused.text
        assert refused.json()["fields"][0]["field"] == "referral_id"
        made = await hub.http.post(f"/quality-assurance/cases/{chosen}/audit", headers=lead, json=audit)
        assert made.status_code == 201, made.text
        again = await hub.http.post(f"/quality-assurance/cases/{chosen}/audit", headers=lead, json=audit)
        assert again.status_code == 409

        [event] = await hub.eventually(lambda: hub.published(QUALITY_AUDIT_RECORDED) or None)
        assert event["payload"]["grade"] == "requires_improvement"
        assert event["payload"]["agrees_with_decision"] is False
        assert event["payload"]["outcome"] == "allocated_worker"
        assert LEARNING not in str(event)  # the learning stays in decision

        read = await hub.http.get(f"/quality-assurance/cases/{chosen}/audit", headers=as_(hub, Role.MANAGER))
        assert read.status_code == 200
        assert read.json()["learning"] == LEARNING
        assert (await sample(hub))[1]["cases"][drawn.index(chosen)]["audited"] is True

        trail = await hub.http.get(f"/cases/{chosen}/audit", headers=as_(hub, Role.MANAGER))
        actions = [(record["action"], record["roles"]) for record in trail.json()]
        assert ("view_case_file", "practice_lead") in actions
        assert ("quality.record_audit", "practice_lead") in actions
        assert ("quality.view_audit", "manager") in actions

    async def test_the_week_starts_at_midnight_on_the_hubs_own_calendar(self, hub: Hub) -> None:
        """Monday 1 June 2026, 00:30 in British Summer Time, is still Sunday in UTC: the case decided then is in
        the week that starts that Monday (2026-W23), as the hub counts its weeks, not in the week before."""
        hub.clock.set(datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
        [rid] = await decided_cases(hub, 1, prefix="MASH-QA-BST")
        status, week = await sample(hub)
        assert status == 200, week
        assert (week["week"], week["starts"]) == ("2026-W23", "2026-06-01")
        assert [case["referral_id"] for case in week["cases"]] == [rid]
        assert (await sample(hub, week="2026-W22"))[1]["decided_by_outcome"] == {}
        viewed = await hub.http.get(f"/quality-assurance/cases/{rid}", params={"reason": "dip sample audit"},
                                    headers=as_(hub, Role.PRACTICE_LEAD))
        assert viewed.status_code == 200, viewed.text

    async def test_the_audit_is_part_of_a_subject_access_requests_answer(self, hub: Hub) -> None:
        [chosen] = await decided_cases(hub, 1)
        audit = {"agrees_with_decision": False, "grade": "inadequate", "learning": LEARNING}
        made = await hub.http.post(f"/quality-assurance/cases/{chosen}/audit", headers=as_(hub, Role.PRACTICE_LEAD),
                                   json=audit)
        assert made.status_code == 201, made.text
        request = SubjectAccessRequest(
            request_id="SAR-QA", person=PersonIdentifiers(family_name="Nobody"), received_at=hub.clock(),
            due_at=hub.clock(), requested_by="morgan.manager", referral_ids=[chosen])
        items, _ = await hub.service.subject_access.find_own_part(request)
        [found] = [item for item in items if item.kind == "quality assurance audit"]
        assert found.referral_id == chosen and LEARNING in found.summary and "disagrees" in found.summary

    async def test_an_erased_case_takes_its_audit_with_it(self, hub: Hub) -> None:
        [chosen] = await decided_cases(hub, 1)  # the only case of its outcome this week: always drawn
        lead = as_(hub, Role.PRACTICE_LEAD)
        audit = {"agrees_with_decision": True, "grade": "good", "learning": LEARNING}
        made = await hub.http.post(f"/quality-assurance/cases/{chosen}/audit", headers=lead, json=audit)
        assert made.status_code == 201, made.text
        await hub.publish(erased_elsewhere(chosen), SUBJECT_ERASED)

        async def gone() -> bool | None:
            response = await hub.http.get(f"/quality-assurance/cases/{chosen}/audit", headers=lead)
            return True if response.status_code == 404 else None

        await hub.eventually(gone)
        assert await what_remains(hub.database, chosen) == []

    async def test_a_week_that_is_not_an_iso_week_is_refused_naming_the_field(self, hub: Hub) -> None:
        status, body = await sample(hub, week="2025-W53")
        assert status == 422, body
        assert body["fields"][0]["field"] == "week"


class TestQualityAssuranceInMemory(InMemory[DecisionService], QualityAssuranceScenarios):
    """Quality assurance on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = (QUALITY_AUDIT_RECORDED,)


pytestmark = pytest.mark.unit
