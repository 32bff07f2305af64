"""Enquiry's governance routes: the agency portal's subject access permission requests, listed, permitted or
refused (audited).

An agency user sees and answers only their own agency's requests (403 for another's path).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.consuming import MessageOrigin
from mash_runtime.service import ServiceRuntime
from mash_schemas.subject_access import SubjectAccessPermissionRequested
from mash_schemas.text import Note
from mash_schemas.topics import SUBJECT_ACCESS_PERMISSION_ANSWERED, SUBJECT_ACCESS_PERMISSION_REQUESTED
from pydantic import BaseModel, ConfigDict

from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.governance import ReleasePermissions
from mash_enquiry.handlers.http import AgencyPath, require_own_agency


class PermissionAnswer(BaseModel):
    """Permit or refuse the release of one sealed item to the person who asked, with an optional reason."""

    model_config = ConfigDict(extra="forbid")

    permitted: bool
    note: Note | None = None


def install_permission_routes(app: FastAPI, runtime: ServiceRuntime, permissions: ReleasePermissions,
                              directory: AgencyDirectory) -> None:
    """Consume decision's permission requests and mount the portal's routes."""

    async def on_request(event: SubjectAccessPermissionRequested, _: MessageOrigin) -> None:
        await permissions.record_request(event)

    runtime.topic(SUBJECT_ACCESS_PERMISSION_ANSWERED)
    runtime.subscribe(SUBJECT_ACCESS_PERMISSION_REQUESTED, SubjectAccessPermissionRequested,
                      "enquiry.subject-access-permissions", on_request)
    router = APIRouter(tags=["agency portal"])
    agency_users = require_roles(Role.AGENCY)

    @router.get("/agencies/{agency}/permission-requests",
                summary="Subject access: sealed items your agency is asked to release (audited)")
    async def open_requests(agency: str = AgencyPath, principal: Principal = agency_users) -> list[dict[str, Any]]:
        require_own_agency(principal, agency, directory)
        return await permissions.open_for(agency, principal)

    @router.post("/agencies/{agency}/permission-requests/{permission_id}",
                 summary="Permit or refuse the release of one sealed item (audited)")
    async def answer(body: PermissionAnswer, permission_id: str, agency: str = AgencyPath,
                     principal: Principal = agency_users) -> dict[str, Any]:
        require_own_agency(principal, agency, directory)
        answered = await permissions.answer(agency, permission_id, principal, permitted=body.permitted, note=body.note)
        if answered is None:
            raise HTTPException(404, f"no open permission request {permission_id} to {agency}")
        return answered

    app.include_router(router)
