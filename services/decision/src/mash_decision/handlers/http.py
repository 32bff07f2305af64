"""The desk over HTTP: queue, case file (audited), screening, enquiry, routing, decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.http import PathIdentifier
from mash_schemas.common import BragRating, ConsentStatus
from mash_schemas.decision import Outcome
from mash_schemas.practice import ChildsVoice, RiskAnalysis
from mash_schemas.text import Rationale, ShortText
from pydantic import BaseModel, ConfigDict, Field

from mash_decision.desk import ManagersDesk, Reasoning
from mash_decision.domain.case_file import CaseState
from mash_decision.neighbour import NeighbourResponder

Text = Rationale


class Body(BaseModel):
    """Request bodies refuse unknown fields so a typo is named in the 422."""

    model_config = ConfigDict(extra="forbid")


class ScreeningRequest(Body):
    """Confirm or change the suggested BRAG rating."""

    rating: BragRating
    rationale: Text | None = None
    risk_analysis: RiskAnalysis | None = Field(
        None, description="The Signs of Safety analysis: three columns and the safety scale (0 to 10).")
    childs_voice: ChildsVoice | None = Field(
        None, description="Whether the child's wishes and feelings and the parents' views are known: what, or why not.")


class RoutingRequest(Body):
    """Route to the allocated social worker."""

    rationale: Text | None = None


class OpenEnquiryRequest(Body):
    """Open a MASH enquiry: agencies, and consent as re-checked (or why the enquiry proceeds without it)."""

    agencies: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")]] = Field(min_length=1, max_length=30)
    consent_check: ConsentStatus | None = None
    proceed_without_consent_reason: Text | None = None
    questions: list[ShortText] = Field(default_factory=list)


class DecisionRequest(Body):
    """The manager's decision."""

    outcome: Outcome
    rationale: Text
    receiving_service: ShortText | None = None
    handoff_item_ids: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(default_factory=list)
    rating: BragRating | None = None
    risk_analysis: RiskAnalysis | None = Field(
        None, description="The manager's own version of the risk analysis; left out, the screener's is sanctioned.")
    risk_analysis_rationale: Text | None = Field(
        None, description="Why the manager changed the screener's risk analysis (needed when it changes).")
    childs_voice: ChildsVoice | None = Field(
        None, description="The child's voice and the parents' views; left out, the one recorded at screening.")

    def reasoning(self) -> Reasoning:
        """The risk analysis and the child's voice as the desk takes them."""
        return Reasoning(self.risk_analysis, self.risk_analysis_rationale, self.childs_voice)


class TransferRequest(Body):
    """Transfer the contact to the hub whose area the family lives in, with the reason."""

    to_hub: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
    reason: Rationale


def install_neighbour_routes(app: FastAPI, responder: NeighbourResponder) -> None:
    """The MASH manager's list of every answer this hub gave neighbouring hubs' enquiries."""
    managers = require_roles(Role.MANAGER)

    @app.get("/neighbour-answers", tags=["federation"],
             summary="Every answer this hub gave a neighbouring hub's enquiry, newest first (audited)")
    async def neighbour_answers(principal: Principal = managers) -> list[dict[str, Any]]:
        return [{**given, "answered_at": given["answered_at"].isoformat()}
                for given in await responder.answers_given(principal)]


def install_routes(app: FastAPI, desk: ManagersDesk, audit: AuditLog) -> None:
    """Mount the desk's routes."""
    router = APIRouter(tags=["desk"])
    readers = require_roles(Role.SCREENER, Role.MANAGER, Role.ANALYST)
    screeners = require_roles(Role.SCREENER, Role.MANAGER)
    managers = require_roles(Role.MANAGER)

    @router.get("/queue", summary="Referrals awaiting screening or decision, most urgent first (audited)")
    async def queue(
        state: CaseState | None = None, rating: BragRating | None = None, principal: Principal = readers
    ) -> list[dict[str, Any]]:
        return [entry.model_dump(mode="json") for entry in await desk.queue(principal, state, rating)]

    @router.get("/cases/{referral_id}", summary="The case file as your role may see it (audited)")
    async def case_file(
        referral_id: PathIdentifier,
        reason: Annotated[str, Query(min_length=3, max_length=200)] = "screening and decision",
        principal: Principal = readers,
    ) -> dict[str, Any]:
        return await desk.view(referral_id, principal, reason)

    @router.post("/cases/{referral_id}/screening", status_code=200, summary="Confirm or change the BRAG rating")
    async def screen(
        referral_id: PathIdentifier, request: ScreeningRequest, principal: Principal = screeners
    ) -> dict[str, str]:
        await desk.screen(referral_id, principal, rating=request.rating, rationale=request.rationale,
                          risk_analysis=request.risk_analysis, childs_voice=request.childs_voice)
        return {"referral_id": referral_id, "state": "awaiting_decision"}

    @router.post("/cases/{referral_id}/routing", status_code=202, summary="Route to the allocated social worker")
    async def route(
        referral_id: PathIdentifier, request: RoutingRequest, principal: Principal = screeners
    ) -> dict[str, str]:
        await desk.route_to_allocated_worker(referral_id, principal, request.rationale)
        return {"referral_id": referral_id, "state": "routed_to_allocated_worker"}

    @router.post("/cases/{referral_id}/enquiry", status_code=202, summary="Open a MASH enquiry")
    async def open_enquiry(
        referral_id: PathIdentifier, request: OpenEnquiryRequest, principal: Principal = managers
    ) -> dict[str, str]:
        enquiry_id = await desk.open_enquiry(
            referral_id, principal, agencies=request.agencies, consent_check=request.consent_check,
            proceed_without_consent_reason=request.proceed_without_consent_reason, questions=request.questions)
        return {"referral_id": referral_id, "enquiry_id": enquiry_id, "state": "enquiry_open"}

    @router.post("/cases/{referral_id}/decision", status_code=202, summary="Record the decision")
    async def decide(
        referral_id: PathIdentifier, request: DecisionRequest, principal: Principal = managers
    ) -> dict[str, Any]:
        decision = await desk.decide(
            referral_id, principal, outcome=request.outcome, receiving_service=request.receiving_service,
            rationale=request.rationale, handoff_item_ids=request.handoff_item_ids, rating=request.rating,
            reasoning=request.reasoning())
        return {"referral_id": referral_id, "decision_id": decision.decision_id, "outcome": decision.outcome.value,
                "receiving_service": decision.receiving_service, "rating": decision.rating.value}

    @router.post("/cases/{referral_id}/decision/preview", summary="The decision as it would be recorded; nothing sent")
    async def preview(
        referral_id: PathIdentifier, request: DecisionRequest, principal: Principal = managers
    ) -> dict[str, Any]:
        decision = await desk.preview_decision(
            referral_id, principal, outcome=request.outcome, receiving_service=request.receiving_service,
            rationale=request.rationale, handoff_item_ids=request.handoff_item_ids, rating=request.rating,
            reasoning=request.reasoning())
        return {"referral_id": referral_id, "decision": decision.model_dump(mode="json")}

    @router.post("/cases/{referral_id}/transfer", status_code=202,
                 summary="Transfer the contact to another hub of the region; the case here closes as transferred")
    async def transfer(
        referral_id: PathIdentifier, request: TransferRequest, principal: Principal = screeners
    ) -> dict[str, Any]:
        contact = await desk.transfer(referral_id, principal, request.to_hub, request.reason)
        return {"referral_id": referral_id, "state": "transferred", "to_hub": contact.to_hub,
                "transfer_id": contact.transfer_id}

    @router.post("/cases/{referral_id}/transfer/preview",
                 summary="Exactly what a transfer would send to the other hub; nothing sent (audited)")
    async def preview_transfer(
        referral_id: PathIdentifier, request: TransferRequest, principal: Principal = screeners
    ) -> dict[str, Any]:
        contact = await desk.preview_transfer(referral_id, principal, request.to_hub, request.reason)
        return {"referral_id": referral_id, "transfer": contact.model_dump(mode="json")}

    @router.get("/cases/{referral_id}/audit", summary="Who viewed or changed this case, when and why")
    async def audit_trail(referral_id: PathIdentifier, _: Principal = managers) -> list[dict[str, Any]]:
        return [
            {"at": r["at"].isoformat(), "who": r["who"], "roles": r["roles"], "action": r["action"], "why": r["why"]}
            for r in await audit.for_referral(referral_id)
        ]

    app.include_router(router)
