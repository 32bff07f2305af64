"""The research desk's HTTP view: an enquiry's progress (who answered, who is late), audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.http import DomainError

from mash_enquiry.research_desk import ResearchDesk


class EnquiryNotFound(DomainError):
    """No enquiry has that id."""

    status = 404


def install_routes(app: FastAPI, desk: ResearchDesk, audit: AuditLog) -> None:
    """Mount the desk's routes."""
    router = APIRouter(tags=["enquiries"])
    hub_staff = require_roles(Role.SCREENER, Role.MANAGER)

    @router.get("/enquiries/{enquiry_id}", summary="Progress of a MASH enquiry (no item content)")
    async def enquiry_progress(enquiry_id: str, principal: Principal = hub_staff) -> dict[str, Any]:
        status = await desk.status(enquiry_id)
        if status is None:
            raise EnquiryNotFound(f"no enquiry {enquiry_id}", field="enquiry_id")
        await audit.record(who=principal, action="view_enquiry_progress", referral_id=status["referral_id"],
                           why="enquiry progress viewed", what={"enquiry_id": enquiry_id})
        return status

    app.include_router(router)
