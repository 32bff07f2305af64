"""Subject access: the supplying agency is asked before a sealed item it supplied is released to the person.

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
from mash_runtime.outbox import OutboxEntry
from mash_runtime.settings import HubSettings
from mash_schemas.envelope import derived_event_id
from mash_schemas.subject_access import (
    ReleasePermissionAnswer,
    ReleasePermissionRequest,
    SubjectAccessPermissionAnswered,
    SubjectAccessPermissionRequested,
)
from mash_schemas.topics import SUBJECT_ACCESS_PERMISSION_ANSWERED

from mash_enquiry.domain.release_permission import PermissionRequest
from mash_enquiry.store import PermissionStore


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

    async def answer(self, agency: str, permission_id: str, principal: Principal, permitted: bool,
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
