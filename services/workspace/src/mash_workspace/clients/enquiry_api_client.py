"""Enquiry's API as the pages use it: the agencies the hub may ask, an enquiry's progress, and the agency
portal (an agency's requests, its answer, its subject access permissions)."""

from __future__ import annotations

from typing import Any

from mash_workspace.clients.base import ServiceClient, segment


class EnquiryApiClient(ServiceClient):
    """The research desk and the agency portal's side of it."""

    async def agencies(self, token: str) -> list[dict[str, str]]:
        """The partner agencies the hub may ask."""
        found: list[dict[str, str]] = (await self.send("GET", "/agencies", token)).json()
        return found

    async def enquiry_progress(self, token: str, enquiry_id: str) -> dict[str, Any]:
        """Who answered, who is late."""
        return await self.json_object("GET", f"/enquiries/{segment(enquiry_id)}", token)

    async def agency_requests(self, token: str, agency: str) -> list[dict[str, Any]]:
        """The agency's unanswered requests."""
        return await self.json_list("GET", f"/agencies/{segment(agency)}/requests", token)

    async def agency_request(self, token: str, agency: str, enquiry_id: str) -> dict[str, Any]:
        """One request to the agency."""
        return await self.json_object("GET", f"/agencies/{segment(agency)}/requests/{segment(enquiry_id)}", token)

    async def agency_answer(self, token: str, agency: str, enquiry_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Answer as the agency."""
        return await self.json_object(
            "POST", f"/agencies/{segment(agency)}/requests/{segment(enquiry_id)}/response", token, json=body)

    async def permission_requests(self, token: str, agency: str) -> list[dict[str, Any]]:
        """Subject access: the agency's sealed items awaiting its permission to release (enquiry audits it)."""
        return await self.json_list("GET", f"/agencies/{segment(agency)}/permission-requests", token)

    async def answer_permission(self, token: str, agency: str, permission_id: str, permitted: bool,
                                note: str | None) -> dict[str, Any]:
        """Permit or refuse one release, as the agency."""
        return await self.json_object(
            "POST", f"/agencies/{segment(agency)}/permission-requests/{segment(permission_id)}", token,
            json={"permitted": permitted, "note": note})
