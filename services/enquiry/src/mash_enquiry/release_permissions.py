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
from mash_runtime.store import Change
from mash_schemas.envelope import derived_event_id
from mash_schemas.subject_access import (
    ReleasePermissionAnswer,
    SubjectAccessPermissionAnswered,
    SubjectAccessPermissionRequested,
)
from mash_schemas.topics import SUBJECT_ACCESS_PERMISSION_ANSWERED

from mash_enquiry.store import PermissionStore

AWAITING = "awaiting_agency"


def shown(state: dict[str, Any]) -> dict[str, Any]:
    """A permission request as the portal shows it."""
    return {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in state.items()}


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

        def decide(state: dict[str, Any] | None) -> Change | None:
            if state is not None:
                return None
            return Change(state={**asked.model_dump(mode="python"), "due_on": asked.due_on.isoformat(),
                                 "status": AWAITING})

        await self._store.apply(asked.permission_id, decide, event_id=str(event.event_id))

    async def open_for(self, agency: str, principal: Principal) -> list[dict[str, Any]]:
        """The agency's unanswered permission requests; the read is audited."""
        found = [shown(state) for state in await self._store.open_for(agency)]
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
        kept: dict[str, Any] = {}

        def decide(state: dict[str, Any] | None) -> Change | None:
            if state is None or state["agency"] != agency or state["status"] != AWAITING:
                return None
            answer = ReleasePermissionAnswer(permission_id=permission_id, request_id=state["request_id"],
                                             agency=agency, item_id=state["item_id"], permitted=permitted,
                                             answered_by=by, answered_at=now, note=note)
            event = SubjectAccessPermissionAnswered(
                event_id=derived_event_id(permission_id, "permission-answered"), occurred_at=now,
                correlation_id=state["request_id"], producer="enquiry", payload=answer)
            kept.update(state)
            return Change(state={**state, "status": "permitted" if permitted else "refused", "answered_by": by,
                                 "answered_at": now, "note": note},
                          events=[OutboxEntry.of(event, topic, key=state["request_id"])])

        if not await self._store.apply(permission_id, decide):
            return None
        await self._audit.record(who=principal, action="subject_access.permission", referral_id=kept.get("referral_id"),
                                 why=note or ("permitted" if permitted else "refused"),
                                 what={"request_id": kept["request_id"], "agency": agency, "item_id": kept["item_id"],
                                       "permitted": permitted})
        return {"permission_id": permission_id, "status": "permitted" if permitted else "refused"}
