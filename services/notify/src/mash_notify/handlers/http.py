"""The delivery log over HTTP: list deliveries (failed ones especially) and re-send a failed one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query
from mash_runtime.auth import Principal, Role, require_roles
from pydantic import BaseModel, Field

from mash_notify.deliveries import Deliveries


class ResendRequest(BaseModel):
    """Why operations re-send a failed delivery (kept in its log and the audit log)."""

    reason: Annotated[str, Field(min_length=3, max_length=500)]


def install_routes(app: FastAPI, deliveries: Deliveries) -> None:
    """Mount the delivery-log routes."""
    router = APIRouter(tags=["deliveries"])
    readers = require_roles(Role.OPERATIONS, Role.MANAGER)
    operations = require_roles(Role.OPERATIONS)

    @router.get("/deliveries", summary="Deliveries with their status and log (no message bodies)")
    async def list_deliveries(
        status: Annotated[Literal["queued", "sent", "failed"] | None, Query()] = None,
        referral_id: Annotated[str | None, Query(max_length=64)] = None,
        _: Principal = readers,
    ) -> list[dict[str, Any]]:
        return await deliveries.listing(status, referral_id)

    @router.post("/deliveries/{notification_id}/resend", status_code=202, summary="Re-send a failed delivery")
    async def resend(notification_id: str, request: ResendRequest, principal: Principal = operations) -> dict[str, str]:
        await deliveries.resend(notification_id, principal, request.reason)
        return {"notification_id": notification_id, "status": "queued"}

    app.include_router(router)
