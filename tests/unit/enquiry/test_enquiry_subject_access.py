"""Enquiry's side of subject access (issue 15), through its real bootstrap: its part of a request (sealed items
by reference only), and the agency portal's permission requests (list, permit or refuse, audited).

Runs in memory here and on the real stack in tests/integration/enquiry/test_enquiry_subject_access_real.py.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from mash_enquiry.bootstrap import EnquiryService, bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_schemas.subject_access import (
    PersonIdentifiers,
    ReleasePermissionRequest,
    SubjectAccessPermissionRequested,
    SubjectAccessRequest,
    SubjectAccessRequested,
)
from mash_schemas.topics import (
    AGENCY_RESPONSE_PREFIX,
    ENQUIRY_OPENED,
    SUBJECT_ACCESS_PART,
    SUBJECT_ACCESS_PERMISSION_ANSWERED,
    SUBJECT_ACCESS_PERMISSION_REQUESTED,
    SUBJECT_ACCESS_REQUESTED,
)

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.enquiry.enquiry_builders import sensitive, shareable
from tests.unit.enquiry.test_enquiry_use_cases import SECRET, answer, opened, portal_user, progress_where

Hub = RunningService[EnquiryService]
OUTPUTS = (SUBJECT_ACCESS_PART, SUBJECT_ACCESS_PERMISSION_ANSWERED)
pytestmark = pytest.mark.unit


def requested(request_id: str, referral_ids: list[str]) -> SubjectAccessRequested:
    """Decision's subject access request about Kai Turner."""
    request = SubjectAccessRequest(
        request_id=request_id, person=PersonIdentifiers(given_name="Kai", family_name="Turner"),
        received_at=MONDAY_MORNING, due_at=MONDAY_MORNING, requested_by="Max", referral_ids=referral_ids)
    return SubjectAccessRequested.build(request, correlation_id=request_id, producer="decision")


def permission_asked(request_id: str, item_id: str) -> SubjectAccessPermissionRequested:
    """Decision asks the police about one of their sealed items."""
    asked = ReleasePermissionRequest(permission_id=f"{request_id}:police:{item_id}", request_id=request_id,
                                     agency="police", item_id=item_id, referral_id="REF-E1",
                                     requested_at=MONDAY_MORNING, due_on=date(2026, 4, 2))
    return SubjectAccessPermissionRequested.build(asked, correlation_id=request_id, producer="decision")


class EnquirySubjectAccessScenarios:
    """Enquiry's part and the portal's permission requests, wherever the service runs."""

    async def test_its_part_gives_shareable_answers_and_names_sealed_items_by_reference_only(self, hub: Hub) -> None:
        await hub.publish(opened("E1", ["police", "health"]), ENQUIRY_OPENED)
        # On the real stack topics are not ordered with each other: the answer goes once the enquiry is open,
        # and the request once the answer is applied.
        await progress_where(hub, "E1", lambda found: True)
        items = [shareable("p-1", "Kai was stopped and searched in 2025."), sensitive("p-2", SECRET)]
        await hub.publish(answer(hub, "E1", "police", items), f"{AGENCY_RESPONSE_PREFIX}police")
        await progress_where(hub, "E1", lambda found: found["answered"] == ["police"])
        await hub.publish(requested("SAR-E1", ["REF-E1"]), SUBJECT_ACCESS_REQUESTED, key="SAR-E1")
        part = (await hub.eventually(lambda: hub.published(SUBJECT_ACCESS_PART)))[0]["payload"]
        assert part["service"] == "enquiry"
        assert part["withheld"] == [{"agency": "police", "item_id": "p-2", "referral_id": "REF-E1",
                                     "reason": "sealed: release needs the supplying agency's permission"}]
        assert SECRET not in json.dumps(part)
        answered = next(i for i in part["items"] if i["item_id"] == "E1/police/p-1")
        assert answered["summary"] == "About Kai Turner: Kai was stopped and searched in 2025."
        assert answered["third_parties"] == []
        asked = [i for i in part["items"] if i["kind"] == "enquiry request"]
        assert {i["item_id"] for i in asked} == {"E1/police/request", "E1/health/request"}
        # A request redelivered answers nothing twice.
        await hub.publish(requested("SAR-E1", ["REF-E1"]), SUBJECT_ACCESS_REQUESTED, key="SAR-E1")
        await hub.flush()
        assert len({p["event_id"] for p in hub.published(SUBJECT_ACCESS_PART)}) == 1

    async def test_the_agency_permits_or_refuses_on_the_portal_and_each_step_is_audited(self, hub: Hub) -> None:
        await hub.publish(permission_asked("SAR-E2", "p-2"), SUBJECT_ACCESS_PERMISSION_REQUESTED, key="SAR-E2")
        await hub.publish(permission_asked("SAR-E2", "p-3"), SUBJECT_ACCESS_PERMISSION_REQUESTED, key="SAR-E2")

        async def listed() -> list[dict[str, str]] | None:
            response = await hub.http.get("/agencies/police/requests", headers=portal_user(hub, "police"))
            assert response.status_code == 200
            found = await hub.http.get("/agencies/police/permission-requests", headers=portal_user(hub, "police"))
            return found.json() if len(found.json()) == 2 else None

        open_ones = await hub.eventually(listed)
        assert [(p["item_id"], p["due_on"], p["status"]) for p in open_ones] == [
            ("p-2", "2026-04-02", "awaiting_agency"), ("p-3", "2026-04-02", "awaiting_agency")]
        other = await hub.http.get("/agencies/police/permission-requests", headers=portal_user(hub, "health"))
        assert other.status_code == 403

        permit = await hub.http.post("/agencies/police/permission-requests/SAR-E2:police:p-2",
                                     json={"permitted": True}, headers=portal_user(hub, "police"))
        assert permit.json() == {"permission_id": "SAR-E2:police:p-2", "status": "permitted"}
        refuse = await hub.http.post("/agencies/police/permission-requests/SAR-E2:police:p-3",
                                     json={"permitted": False, "note": "live investigation"},
                                     headers=portal_user(hub, "police"))
        assert refuse.status_code == 200
        again = await hub.http.post("/agencies/police/permission-requests/SAR-E2:police:p-3",
                                    json={"permitted": True}, headers=portal_user(hub, "police"))
        assert again.status_code == 404  # the first answer stands
        answers = await hub.eventually(lambda: [e["payload"] for e in hub.published(SUBJECT_ACCESS_PERMISSION_ANSWERED)]
                                       if len(hub.published(SUBJECT_ACCESS_PERMISSION_ANSWERED)) >= 2 else None)
        assert sorted((a["item_id"], a["permitted"], a["answered_by"], a["note"]) for a in answers) == [
            ("p-2", True, "Pat (police)", None), ("p-3", False, "Pat (police)", "live investigation")]
        remaining = await hub.http.get("/agencies/police/permission-requests", headers=portal_user(hub, "police"))
        assert remaining.json() == []
        audited = [(r["who"], r["action"], r["why"]) async for r in hub.database["audit"].find(
            {"action": "subject_access.permission"})]
        assert sorted(audited) == [("Pat (police)", "subject_access.permission", "live investigation"),
                                   ("Pat (police)", "subject_access.permission", "permitted")]


class TestEnquirySubjectAccessInMemory(InMemory[EnquiryService], EnquirySubjectAccessScenarios):
    """Enquiry's subject access on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    outputs = OUTPUTS
