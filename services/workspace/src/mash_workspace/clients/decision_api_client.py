"""Decision's API as the pages use it: the desk (queue, case file, screening, routing, enquiry, decision and its
preview, transfer), subject access requests, and quality assurance (the weekly dip sample and its audits)."""

from __future__ import annotations

from typing import Any

from mash_workspace.clients.base import ApiError, ServiceClient, segment


class DecisionApiClient(ServiceClient):
    """The MASH manager's desk."""

    async def queue(self, token: str, state: str | None, rating: str | None) -> list[dict[str, Any]]:
        """The desk's queue, most urgent first."""
        params = {key: value for key, value in (("state", state), ("rating", rating)) if value}
        return await self.json_list("GET", "/queue", token, params=params)

    async def case_file(self, token: str, referral_id: str, reason: str) -> dict[str, Any]:
        """The case file as the caller's role may see it (the read is audited with `reason`)."""
        return await self.json_object("GET", f"/cases/{segment(referral_id)}", token, params={"reason": reason})

    async def audit_trail(self, token: str, referral_id: str) -> list[dict[str, Any]]:
        """Who viewed or changed the case (managers)."""
        return await self.json_list("GET", f"/cases/{segment(referral_id)}/audit", token)

    async def screen(self, token: str, referral_id: str, body: dict[str, Any]) -> None:
        """Confirm or change the rating."""
        await self.send("POST", f"/cases/{segment(referral_id)}/screening", token, json=body)

    async def route(self, token: str, referral_id: str, body: dict[str, Any]) -> None:
        """Route to the allocated worker."""
        await self.send("POST", f"/cases/{segment(referral_id)}/routing", token, json=body)

    async def open_enquiry(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Open a MASH enquiry."""
        return await self.json_object("POST", f"/cases/{segment(referral_id)}/enquiry", token, json=body)

    async def preview_decision(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The decision as it would be recorded (nothing stored)."""
        return await self.json_object("POST", f"/cases/{segment(referral_id)}/decision/preview", token, json=body)

    async def decide(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record the decision."""
        return await self.json_object("POST", f"/cases/{segment(referral_id)}/decision", token, json=body)

    async def preview_transfer(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Exactly what a transfer to another hub would send (nothing sent)."""
        return await self.json_object("POST", f"/cases/{segment(referral_id)}/transfer/preview", token, json=body)

    async def transfer(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Transfer the contact to another hub of the region."""
        return await self.json_object("POST", f"/cases/{segment(referral_id)}/transfer", token, json=body)

    # --- information governance (issue 15): subject access, and the referrals naming a person ----------------

    async def start_subject_access(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """Start a subject access request (managers; decision audits it)."""
        return await self.json_object("POST", "/subject-access-requests", token, json=body)

    async def subject_access_requests(self, token: str) -> list[dict[str, Any]]:
        """Every subject access request with its deadline."""
        return await self.json_list("GET", "/subject-access-requests", token)

    async def extend_subject_access(self, token: str, request_id: str, reason: str) -> dict[str, Any]:
        """Extend the request's deadline by two further months (managers; decision refuses a second or late one)."""
        return await self.json_object("POST", f"/subject-access-requests/{segment(request_id)}/extension", token,
                                      json={"reason": reason})

    async def subject_access_export(self, token: str, request_id: str, reason: str, form: str) -> dict[str, Any]:
        """The assembled answer (decision audits it as an export, with `reason`)."""
        return await self.json_object("GET", f"/subject-access-requests/{segment(request_id)}", token,
                                      params={"reason": reason, "format": form})

    async def referrals_of(self, token: str, person_ref: str, reason: str) -> list[str]:
        """The referrals naming a person, for the audit report."""
        found = await self.json_object("GET", f"/people/{segment(person_ref)}/referrals", token,
                                       params={"reason": reason})
        return [str(referral_id) for referral_id in found.get("referral_ids", [])]

    # --- quality assurance (issue 23): the weekly dip sample of decided cases and the practice lead's audits ---

    async def dip_sample(self, token: str, week: str | None = None) -> dict[str, Any]:
        """The week's dip sample (this week's by default), each case marked audited or not (practice leads)."""
        return await self.json_object("GET", "/quality-assurance/dip-sample", token,
                                      params={"week": week} if week else None)

    async def sampled_case(self, token: str, referral_id: str, reason: str) -> dict[str, Any]:
        """A sampled case as the practice lead reads it to audit it (decision audits the read with `reason`)."""
        return await self.json_object("GET", f"/quality-assurance/cases/{segment(referral_id)}", token,
                                      params={"reason": reason})

    async def record_quality_audit(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record the practice lead's audit of a sampled case."""
        return await self.json_object("POST", f"/quality-assurance/cases/{segment(referral_id)}/audit", token,
                                      json=body)

    async def quality_audit(self, token: str, referral_id: str) -> dict[str, Any] | None:
        """The audit of a case, or None when it has none (managers and practice leads; decision audits the read)."""
        try:
            return await self.json_object("GET", f"/quality-assurance/cases/{segment(referral_id)}/audit", token)
        except ApiError as error:
            if error.status == 404:  # the case has no audit
                return None
            raise
