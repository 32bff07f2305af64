"""The delivery log over HTTP: list deliveries (failed ones especially) and re-send a failed one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query
from mash_runtime.auth import Principal, require_roles
from mash_runtime.roles import Role
from mash_schemas.decision import Decision
from mash_schemas.text import Reason
from pydantic import BaseModel

from mash_notify.deliveries import Deliveries


class ResendRequest(BaseModel):
    """Why operations re-send a failed delivery (kept in its log and the audit log)."""

    reason: Reason


class PreviewRequest(BaseModel):
    """A decision as the desk would record it (from decision's preview), to be rendered, not sent."""

    decision: Decision


def install_routes(app: FastAPI, deliveries: Deliveries) -> None:
    """Mount the delivery-log routes."""
    router = APIRouter(tags=["deliveries"])
    readers = require_roles(Role.OPERATIONS, Role.MANAGER)
    operations = require_roles(Role.OPERATIONS)
    managers = require_roles(Role.MANAGER)

    @router.get("/deliveries", summary="Deliveries with their status and log (no message bodies)")
    async def list_deliveries(
        status: Annotated[Literal["queued", "sending", "sent", "failed"] | None, Query()] = None,
        referral_id: Annotated[str | None, Query(max_length=64)] = None,
        _: Principal = readers,
    ) -> list[dict[str, Any]]:
        return await deliveries.listing(status, referral_id)

    @router.post("/deliveries/{notification_id}/resend", status_code=202, summary="Re-send a failed delivery")
    async def resend(notification_id: str, request: ResendRequest, principal: Principal = operations) -> dict[str, str]:
        await deliveries.resend(notification_id, principal, request.reason)
        return {"notification_id": notification_id, "status": "queued"}

    @router.post("/previews", summary="What a decision would send, to whom, word for word; nothing is sent")
    async def preview(request: PreviewRequest, principal: Principal = managers) -> list[dict[str, Any]]:
        messages = await deliveries.preview(request.decision, principal)
        return [
            {"kind": m.kind.value, "addressee": m.addressee, "channel": m.channel, "recipient": m.recipient_label,
             "subject": m.subject, "body": m.body}
            for m in messages
        ]

    app.include_router(router)
