"""Enquiry's information governance: retention sweeps and legal holds over its enquiries and permission requests,
erasure, and its part of a subject access request (`govern` wires them; mash_runtime.governance does the sweeping
and holding).

Enquiry's part of a subject access request: the requests sent to agencies about the person, and their answers.

An agency's non-sensitive items are given with whom they are about (a third party when not the person);
its sensitive items are never put on the part, sealed or not: each is named by reference only (agency, item
id, referral), because releasing it to the person needs the supplying agency's permission.

Asking permission: the supplying agency is asked before a sealed item it supplied is released to the person.

Decision publishes one `subject-access.permission-requested` per sealed item (by reference only); this desk
keeps each for the agency portal, where the agency permits or refuses (audited), and publishes the answer as
`subject-access.permission-answered` for decision, which alone holds the item and releases it into the export.
The first answer stands.
"""

from __future__ import annotations

from typing import Any

from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal
from mash_runtime.clock import Clock, utc_now
from mash_runtime.governance import Governance
from mash_runtime.outbox import OutboxEntry
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from mash_runtime.subject_access import Found, answer_subject_access, full_name, names_the_person, person_matches
from mash_schemas.agency import Sensitivity
from mash_schemas.envelope import derived_event_id
from mash_schemas.subject_access import (
    HeldItem,
    ReleasePermissionAnswer,
    ReleasePermissionRequest,
    SubjectAccessPermissionAnswered,
    SubjectAccessPermissionRequested,
    SubjectAccessRequest,
    WithheldItem,
)
from mash_schemas.topics import SUBJECT_ACCESS_PERMISSION_ANSWERED

from mash_enquiry.domain.enquiry_record import EnquiryRecord
from mash_enquiry.domain.release_permission import PermissionRequest
from mash_enquiry.store import EnquiryStore, PermissionStore, RetainedEnquiries, RetainedPermissionRequests

TEXT_LIMIT = 3_900


def record_part(record: EnquiryRecord, request: SubjectAccessRequest) -> Found:
    """One enquiry's requests and answers, if the enquiry is about the person."""
    enquiry = record.enquiry
    subjects = [subject.model_dump(mode="json") for subject in enquiry.subjects]
    if enquiry.referral_id not in request.referral_ids and not any(person_matches(request, s) for s in subjects):
        return [], []
    people = subjects + [member.model_dump(mode="json") for member in enquiry.household]
    others = sorted({full_name(person) for person in people if not person_matches(request, person)})
    items = [HeldItem(
        item_id=f"{record.enquiry_id}/{agency}/request", kind="enquiry request", referral_id=enquiry.referral_id,
        recorded_at=record.opened_at, third_parties=others,
        summary=f"The hub asked {agency} what it knows of the family (due {sent.due_at:%d %B %Y %H:%M}).")
        for agency, sent in record.requests.items()]
    withheld: list[WithheldItem] = []
    for answer in [*record.responses.values(), *record.late_responses.values()]:
        for item in answer.items:
            if item.sensitivity is Sensitivity.SENSITIVE:
                withheld.append(WithheldItem(agency=answer.agency, item_id=item.item_id,
                                             referral_id=enquiry.referral_id))
                continue
            items.append(HeldItem(
                item_id=f"{record.enquiry_id}/{answer.agency}/{item.item_id}", kind=f"agency answer ({answer.agency})",
                referral_id=enquiry.referral_id, recorded_at=answer.responded_at,
                summary=f"About {item.about}: {item.summary}"[:TEXT_LIMIT],
                third_parties=[] if names_the_person(item.about, request.person) else [item.about]))
    return items, withheld


class SubjectAccessFinder:
    """Searches enquiry's own records for a subject access request."""

    def __init__(self, store: EnquiryStore) -> None:
        self._store = store

    async def find(self, request: SubjectAccessRequest) -> Found:
        """Enquiry's part: requests and non-sensitive answers as items, sensitive items as references."""
        items: list[HeldItem] = []
        withheld: list[WithheldItem] = []
        for record in await self._store.every_record():
            found, kept_back = record_part(record, request)
            items += found
            withheld += kept_back
        return items, withheld


def shown(request: PermissionRequest) -> dict[str, Any]:
    """A permission request as the portal shows it: what was asked, its status, and the answer once given."""
    fields: dict[str, Any] = {**request.asked.model_dump(mode="python"), "status": request.status}
    if not request.awaiting:
        fields.update(answered_by=request.answered_by, answered_at=request.answered_at, note=request.note)
    return {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in fields.items()}


class ReleasePermissions:
    """Permission requests from subject access, answered by agencies on the portal."""

    def __init__(self, settings: HubSettings, store: PermissionStore, audit: AuditLog, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._store = store
        self._audit = audit
        self._clock = clock

    async def record_request(self, event: SubjectAccessPermissionRequested) -> None:
        """Keep the request for the agency's portal (once)."""
        asked = event.payload

        def decide(current: PermissionRequest | None) -> tuple[PermissionRequest, list[OutboxEntry]] | None:
            return (PermissionRequest(asked), []) if current is None else None

        await self._store.change_permission(asked.permission_id, decide, event_id=str(event.event_id))

    async def open_for(self, agency: str, principal: Principal) -> list[dict[str, Any]]:
        """The agency's unanswered permission requests; the read is audited."""
        found = [shown(request) for request in await self._store.open_for(agency)]
        await self._audit.record(who=principal, action="view_permission_requests", referral_id=None,
                                 why="agency portal: subject access permission requests",
                                 what={"agency": agency, "count": len(found)})
        return found

    async def answer(self, agency: str, permission_id: str, principal: Principal, *, permitted: bool,
                     note: str | None) -> dict[str, Any] | None:
        """Record the agency's answer and publish it for decision; None if there is no such open request."""
        now = self._clock()
        by = principal.name or principal.subject
        topic = self._settings.topic(SUBJECT_ACCESS_PERMISSION_ANSWERED)
        kept: list[ReleasePermissionRequest] = []

        def decide(request: PermissionRequest | None) -> tuple[PermissionRequest, list[OutboxEntry]] | None:
            if request is None or request.asked.agency != agency or not request.awaiting:
                return None
            asked = request.asked
            answer = ReleasePermissionAnswer(permission_id=permission_id, request_id=asked.request_id,
                                             agency=agency, item_id=asked.item_id, permitted=permitted,
                                             answered_by=by, answered_at=now, note=note)
            event = SubjectAccessPermissionAnswered(
                event_id=derived_event_id(permission_id, "permission-answered"), occurred_at=now,
                correlation_id=asked.request_id, producer="enquiry", payload=answer)
            kept[:] = [asked]
            return (request.answered(permitted=permitted, by=by, at=now, note=note),
                    [OutboxEntry.of(event, topic, key=asked.request_id)])

        if not await self._store.change_permission(permission_id, decide):
            return None
        asked = kept[0]
        await self._audit.record(who=principal, action="subject_access.permission", referral_id=asked.referral_id,
                                 why=note or ("permitted" if permitted else "refused"),
                                 what={"request_id": asked.request_id, "agency": agency, "item_id": asked.item_id,
                                       "permitted": permitted})
        return {"permission_id": permission_id, "status": "permitted" if permitted else "refused"}


def govern(runtime: ServiceRuntime, store: EnquiryStore, permissions: PermissionStore) -> Governance:
    """Sweep and hold enquiries and permission requests by the retention schedule, and answer enquiry's part of
    each subject access request."""
    governance = Governance(runtime, [RetainedEnquiries(store), RetainedPermissionRequests(permissions)])
    answer_subject_access(runtime, SubjectAccessFinder(store).find)
    return governance
