"""Enquiry's permission requests (the agency portal's part of a subject access request) on the retention
schedule, kind `subject_access_request`: they go when decision erases their request, or by their own date
(2 years from when the agency was asked), unless the item's referral is under legal hold; erased and audited.

Runs in memory here and on the real stack in tests/integration/enquiry/test_enquiry_subject_access_real.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from mash_enquiry.bootstrap import EnquiryService, bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_schemas.envelope import derived_event_id
from mash_schemas.governance import ErasureAction, RecordKind, SubjectErased, SubjectErasure
from mash_schemas.topics import LEGAL_HOLD, SUBJECT_ACCESS_PERMISSION_REQUESTED, SUBJECT_ERASED

from tests.support.retention_scenarios import hold
from tests.support.service_harness import InMemory, RunningService
from tests.unit.enquiry.test_enquiry_subject_access import OUTPUTS, permission_asked

Hub = RunningService[EnquiryService]
RETENTION_OUTPUTS = (*OUTPUTS, SUBJECT_ERASED)
pytestmark = pytest.mark.unit


def erased_by_decision(request_id: str, hub: Hub) -> SubjectErased:
    """Decision's sweeper erased the request: the event every service drops its copies on."""
    at = hub.clock()
    erasure = SubjectErasure(referral_id=request_id, record_kind=RecordKind.SUBJECT_ACCESS_REQUEST,
                             action=ErasureAction.ERASE, rule="subject_access_request/*", erased_at=at,
                             erased_by="decision")
    return SubjectErased.build(erasure, correlation_id=request_id, producer="decision", occurred_at=at,
                               event_id=derived_event_id(request_id, "subject.erased/decision"))


async def permissions_of(hub: Hub, request_id: str) -> list[str]:
    return [doc["_id"] async for doc in hub.database["release_permissions"].find({"request_id": request_id})]


async def erased_audits(hub: Hub, request_id: str) -> list[str]:
    return [str(r["why"]) for r in await hub.service.runtime.audit.for_referral(request_id) if r["action"] == "erased"]


class EnquiryPermissionRetentionScenarios:
    """Permission requests past their date, wherever the service runs."""

    async def test_they_go_with_their_request_when_decision_erases_it_once(self, hub: Hub) -> None:
        for item_id in ("p-1", "p-2"):
            await hub.publish(permission_asked("SAR-R1", item_id), SUBJECT_ACCESS_PERMISSION_REQUESTED, key="SAR-R1")
        await hub.publish(permission_asked("SAR-R9", "p-1"), SUBJECT_ACCESS_PERMISSION_REQUESTED, key="SAR-R9")
        await hub.eventually(lambda: _both(hub))
        hub.clock.advance(timedelta(days=365))
        await hub.service.governance.sweep()
        assert len(await permissions_of(hub, "SAR-R1")) == 2  # not yet due by enquiry's own date

        event = erased_by_decision("SAR-R1", hub)
        await hub.publish(event, SUBJECT_ERASED, key="SAR-R1")
        await hub.publish(event, SUBJECT_ERASED, key="SAR-R1")  # redelivered

        async def gone() -> bool:
            return await permissions_of(hub, "SAR-R1") == [] and bool(await erased_audits(hub, "SAR-R1"))

        await hub.eventually(gone)
        await hub.flush()
        assert await erased_audits(hub, "SAR-R1") == ["subject_access_request/*: erased by decision"]
        assert await permissions_of(hub, "SAR-R9") == ["SAR-R9:police:p-1"]  # another request's are kept

    async def test_enquiry_sweeps_its_own_past_their_date_unless_the_referral_is_held(self, hub: Hub) -> None:
        await hub.publish(permission_asked("SAR-R2", "p-1"), SUBJECT_ACCESS_PERMISSION_REQUESTED, key="SAR-R2")
        await hub.eventually(lambda: _one(hub, "SAR-R2"))
        await hub.publish(hold("REF-E1", "placed", hub.clock()), LEGAL_HOLD)
        await hub.eventually(lambda: hub.service.governance.held("REF-E1"))

        hub.clock.advance(timedelta(days=365 * 2 + 2))
        await hub.service.governance.sweep()
        assert await permissions_of(hub, "SAR-R2") == ["SAR-R2:police:p-1"]  # the item's referral is held

        await hub.publish(hold("REF-E1", "lifted", hub.clock()), LEGAL_HOLD)

        async def lifted() -> bool:
            return await hub.service.governance.held("REF-E1") is None

        await hub.eventually(lifted)
        await hub.service.governance.sweep()
        assert await permissions_of(hub, "SAR-R2") == []
        said = await hub.eventually(lambda: [e["payload"] for e in hub.published(SUBJECT_ERASED)
                                             if e["payload"]["referral_id"] == "SAR-R2"])
        assert [(s["record_kind"], s["erased_by"]) for s in said] == [("subject_access_request", "enquiry")]
        assert await erased_audits(hub, "SAR-R2") == ["subject_access_request/*: retention date passed"]


async def _one(hub: Hub, request_id: str) -> bool:
    return bool(await permissions_of(hub, request_id))


async def _both(hub: Hub) -> bool:
    return len(await permissions_of(hub, "SAR-R1")) == 2 and await _one(hub, "SAR-R9")


class TestEnquiryPermissionRetentionInMemory(InMemory[EnquiryService], EnquiryPermissionRetentionScenarios):
    """On a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    outputs = RETENTION_OUTPUTS
