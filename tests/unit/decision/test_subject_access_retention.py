"""Subject access requests on the retention schedule (kind `subject_access_request`: 2 years from receipt), in
decision: the sweeper erases a request with its parts, says so once on `subject.erased` and in the audit log,
and keeps a request that names a referral under legal hold until the hold is lifted.

Runs in memory here and on the real broker and store in tests/integration/decision/test_subject_access_real.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings
from mash_runtime.roles import Role
from mash_runtime.subject_access import PARTS_COLLECTION
from mash_schemas.subject_access import HeldItem
from mash_schemas.topics import SUBJECT_ACCESS_PART, SUBJECT_ERASED

from tests.support.retention_scenarios import GOVERNANCE_COLLECTIONS
from tests.support.service_harness import InMemory, RunningService
from tests.unit.decision.test_subject_access import KAI, OUTPUTS, a_decided_case_with_a_sealed_police_item, as_, part_of

Hub = RunningService[DecisionService]
RETENTION_OUTPUTS = (*OUTPUTS, SUBJECT_ERASED)
pytestmark = pytest.mark.unit


async def start(hub: Hub) -> str:
    """Kai's request, started by a manager on Monday 2 March 2026."""
    response = await hub.http.post("/subject-access-requests", json=KAI, headers=as_(hub, Role.MANAGER, "Max"))
    assert response.status_code == 201, response.text
    return str(response.json()["request_id"])


async def still_kept(hub: Hub, request_id: str) -> bool:
    response = await hub.http.get(f"/subject-access-requests/{request_id}", params={"reason": "retention check"},
                                  headers=as_(hub, Role.MANAGER))
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def naming(hub: Hub, request_id: str) -> list[str]:
    """Every document that names the person, or the request outside the records kept by design.

    By design: the governance records (the audit log keeps who started and exported the request, by the
    person's case-system reference, under its own rule), and `subject_access_parts`, each service's note that it
    answered the request (its id, when, how many items), which stops a redelivery answering twice.
    """
    found = []
    for name in await hub.database.list_collection_names():
        if name in GOVERNANCE_COLLECTIONS:
            continue
        async for doc in hub.database[name].find({}):
            text = repr(doc)
            if any(said in text for said in ("LA-991", "Turner", "Kai")) or (
                    request_id in text and name != PARTS_COLLECTION):
                found.append(f"{name}/{doc.get('_id')}")
    return found


class SubjectAccessRetentionScenarios:
    """Decision's subject access requests past their date, wherever the service runs."""

    async def test_a_request_past_its_date_goes_with_its_parts_and_is_said_and_audited_once(self, hub: Hub) -> None:
        request_id = await start(hub)
        contact = HeldItem(item_id="REF-9", kind="contact", referral_id="REF-9", summary="Contact about Kai.")
        await hub.publish(part_of("intake", request_id, [contact], []), SUBJECT_ACCESS_PART, key=request_id)

        async def has_intake_part() -> bool:
            response = await hub.http.get(f"/subject-access-requests/{request_id}", params={"reason": "reviewing"},
                                          headers=as_(hub, Role.MANAGER))
            return "intake" in response.json()["parts_received"]

        await hub.eventually(has_intake_part)
        hub.clock.advance(timedelta(days=365 * 2 - 1))  # Wednesday 1 March 2028: the day before its date
        await hub.service.governance.sweep()
        assert await still_kept(hub, request_id)

        hub.clock.advance(timedelta(days=2))  # 3 March 2028: 2 years from receipt have passed
        await hub.service.governance.sweep()
        await hub.service.governance.sweep()  # a second run finds nothing more
        await hub.flush()

        assert not await still_kept(hub, request_id)
        assert await naming(hub, request_id) == []
        said = await hub.eventually(lambda: [e["payload"] for e in hub.published(SUBJECT_ERASED)
                                             if e["payload"]["referral_id"] == request_id])
        assert [(s["record_kind"], s["rule"], s["erased_by"]) for s in said] == [
            ("subject_access_request", "subject_access_request/*", "decision")]
        erased = [(r["who"], r["why"], r["what"]["documents"]) for r in await hub.service.runtime.audit.for_referral(
            request_id) if r["action"] == "erased"]
        assert erased == [("retention-sweeper", "subject_access_request/*: retention date passed", 1)]

    async def test_a_request_naming_a_referral_under_legal_hold_is_kept_until_the_hold_is_lifted(
        self, hub: Hub
    ) -> None:
        rid = "MASH-SAR-HELD"
        await a_decided_case_with_a_sealed_police_item(hub, rid)
        request_id = await start(hub)
        unrelated = await hub.http.post("/subject-access-requests", json={**KAI, "person_ref": "LA-000",
                                                                          "family_name": "Nobody"},
                                        headers=as_(hub, Role.MANAGER))
        hold_path = f"/cases/{rid}/legal-hold"
        placed = await hub.http.post(hold_path, json={"reason": "complaint", "note": "Complaint about the answer"},
                                     headers=as_(hub, Role.MANAGER, "Mo"))
        assert placed.status_code == 201, placed.text

        hub.clock.advance(timedelta(days=365 * 2 + 2))
        await hub.service.governance.sweep()
        assert await still_kept(hub, request_id)
        # A request that names no held referral is not kept by someone else's hold.
        assert not await still_kept(hub, unrelated.json()["request_id"])

        lifted = await hub.http.post(f"{hold_path}/lift", json={"note": "Complaint closed"},
                                     headers=as_(hub, Role.MANAGER, "Mo"))
        assert lifted.status_code == 200
        await hub.service.governance.sweep()
        assert not await still_kept(hub, request_id)
        # The case file has its own, longer rule: it is still there.
        assert await hub.database["case_files"].find_one({"_id": rid}) is not None


class TestSubjectAccessRetentionInMemory(InMemory[DecisionService], SubjectAccessRetentionScenarios):
    """On a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = RETENTION_OUTPUTS
