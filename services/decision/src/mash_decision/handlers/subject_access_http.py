"""Subject access over HTTP: a manager starts a request (with a reason), extends its deadline (with the reason
the person is told), lists them, exports the answer.

Only a manager: an agency user, an analyst or a screener is refused (403). Every call is audited by the desk.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.http import PathIdentifier
from mash_schemas.subject_access import PersonIdentifiers
from mash_schemas.text import Reason, ShortText
from pydantic import BaseModel, ConfigDict

from mash_decision.subject_access import SubjectAccessDesk


class SubjectAccessBody(BaseModel):
    """The person's identifiers and why the request is made."""

    model_config = ConfigDict(extra="forbid")

    given_name: ShortText | None = None
    family_name: ShortText
    date_of_birth: date | None = None
    person_ref: ShortText | None = None
    reason: Reason


class ExtensionBody(BaseModel):
    """Why the request needs two further months (complex or numerous): the person is told this reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


def install_subject_access_routes(app: FastAPI, desk: SubjectAccessDesk) -> None:
    """Mount `/subject-access-requests`."""
    router = APIRouter(tags=["information governance"])
    managers = require_roles(Role.MANAGER)
    auditors = require_roles(Role.MANAGER, Role.OPERATIONS)

    @router.post("/subject-access-requests", status_code=201,
                 summary="Start a subject access request (manager; reason required; audited)")
    async def start(body: SubjectAccessBody, principal: Principal = managers) -> dict[str, Any]:
        person = PersonIdentifiers(given_name=body.given_name, family_name=body.family_name,
                                   date_of_birth=body.date_of_birth, person_ref=body.person_ref)
        case = await desk.start(principal, person, body.reason)
        return {"request_id": case.request_id, "received_at": case.received_at.isoformat(),
                "due_on": case.due_on.isoformat(), "referral_ids": case.referral_ids}

    @router.post("/subject-access-requests/{request_id}/extension",
                 summary="Extend the deadline by two further months, once, within the first month "
                         "(manager; reason required; audited)")
    async def extend(
        request_id: PathIdentifier, body: ExtensionBody, principal: Principal = managers
    ) -> dict[str, Any]:
        return await desk.extend(request_id, principal, body.reason)

    @router.get("/subject-access-requests", summary="Every request with its deadline: due or overdue (audited)")
    async def listing(principal: Principal = managers) -> list[dict[str, Any]]:
        return await desk.listing(principal)

    @router.get("/subject-access-requests/{request_id}",
                summary="The assembled answer, marked for redaction review (audited as an export)")
    async def export(
        request_id: str,
        reason: Annotated[str, Query(min_length=3, max_length=200)],
        form: Annotated[Literal["json", "html"], Query(alias="format")] = "json",
        principal: Principal = managers,
    ) -> dict[str, Any]:
        answer = await desk.export(request_id, principal, reason, form)
        if answer is None:
            raise HTTPException(404, f"no subject access request {request_id}")
        return answer

    @router.get("/people/{person_ref}/referrals", tags=["audit"],
                summary="The referrals naming a person (case-system reference), for the audit report (audited)")
    async def referrals_of(
        person_ref: str, reason: Annotated[str, Query(min_length=3, max_length=200)] = "audit report",
        principal: Principal = auditors,
    ) -> dict[str, Any]:
        return {"person_ref": person_ref, "referral_ids": await desk.referrals_of(person_ref, principal, reason)}

    app.include_router(router)
