"""The research desk over HTTP: an enquiry's progress for hub staff, and the agency portal's requests.

Every read is audited. An agency user reaches only the requests of the agency named in their token:
another agency's path is refused with 403 before anything is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Path
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.http import DomainError, PathIdentifier

from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.domain.portal import AgencyAnswerForm
from mash_enquiry.research_desk import ResearchDesk

AgencyPath = Path(pattern=r"^[a-z][a-z0-9-]{1,39}$", description="The agency's id, e.g. 'police'.")


class EnquiryNotFound(DomainError):
    """No enquiry has that id."""

    status = 404


class OtherAgency(DomainError):
    """An agency user asked for another agency's requests."""

    status = 403


class UnknownAgencyPath(DomainError):
    """The path names an agency the hub has not configured."""

    status = 404


def require_own_agency(principal: Principal, agency: str, directory: AgencyDirectory) -> None:
    """Refuse an agency user another agency's path (403) and a path naming no configured agency (404).

    Every portal route calls it first thing in its body, here and in governance_http.py, so a malformed body is
    still answered 422 before the path is judged (a FastAPI dependency would run before the body is validated).
    """
    if principal.agency != agency:
        raise OtherAgency("you may see and answer only your own agency's requests", field="agency")
    if agency not in directory.agencies:
        raise UnknownAgencyPath(f"no agency {agency}", field="agency")


def install_routes(app: FastAPI, desk: ResearchDesk, audit: AuditLog, directory: AgencyDirectory) -> None:
    """Mount the desk's routes."""
    router = APIRouter(tags=["enquiries"])
    hub_staff = require_roles(Role.SCREENER, Role.MANAGER)
    agency_users = require_roles(Role.AGENCY)

    @router.get("/agencies", summary="The partner agencies the hub may ask (ids and names)")
    async def agencies(_: Principal = hub_staff) -> list[dict[str, str]]:
        return [{"agency": name, "display_name": entry.display_name} for name, entry in directory.agencies.items()]

    @router.get("/agencies/{agency}/requests", summary="Your agency's unanswered requests (agency portal, audited)")
    async def agency_requests(agency: str = AgencyPath, principal: Principal = agency_users) -> list[dict[str, Any]]:
        require_own_agency(principal, agency, directory)
        requests = await desk.open_requests(agency)
        await audit.record(who=principal, action="view_agency_requests", referral_id=None,
                           why="agency portal: open requests", what={"agency": agency, "count": len(requests)})
        return requests

    @router.get("/agencies/{agency}/requests/{enquiry_id}", summary="One request to your agency (audited)")
    async def agency_request(
        enquiry_id: str, agency: str = AgencyPath, principal: Principal = agency_users
    ) -> dict[str, Any]:
        require_own_agency(principal, agency, directory)
        request = await desk.open_request(agency, enquiry_id)
        if request is None:
            raise EnquiryNotFound(f"no request to {agency} in enquiry {enquiry_id}", field="enquiry_id")
        await audit.record(who=principal, action="view_agency_request", referral_id=request["referral_id"],
                           why="agency portal: request read", what={"agency": agency, "enquiry_id": enquiry_id})
        return request

    @router.post("/agencies/{agency}/requests/{enquiry_id}/response", status_code=202,
                 summary="Answer a request as your agency (published on the agency's response topic)")
    async def agency_answer(
        enquiry_id: str, answer: AgencyAnswerForm, agency: str = AgencyPath, principal: Principal = agency_users
    ) -> dict[str, str]:
        require_own_agency(principal, agency, directory)
        by = principal.name or principal.subject
        request_id = await desk.answer_for(agency, enquiry_id, answer, f"{by} ({agency}, agency portal)")
        return {"enquiry_id": enquiry_id, "request_id": request_id, "status": "answer_sent"}

    @router.get("/enquiries/{enquiry_id}", summary="Progress of a MASH enquiry (no item content)")
    async def enquiry_progress(enquiry_id: PathIdentifier, principal: Principal = hub_staff) -> dict[str, Any]:
        status = await desk.status(enquiry_id)
        if status is None:
            raise EnquiryNotFound(f"no enquiry {enquiry_id}", field="enquiry_id")
        await audit.record(who=principal, action="view_enquiry_progress", referral_id=status["referral_id"],
                           why="enquiry progress viewed", what={"enquiry_id": enquiry_id})
        return status

    app.include_router(router)
