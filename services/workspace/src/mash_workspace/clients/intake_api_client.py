"""Intake's API as the pages use it: report a concern, and its status for the person who reported it."""

from __future__ import annotations

from typing import Any

from mash_workspace.clients.base import ServiceClient, segment


class IntakeApiClient(ServiceClient):
    """The front door: the public and professionals reach it without signing in."""

    async def submit_contact(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Report a concern; the key makes a double-click or a retry the same contact."""
        return await self.json_object("POST", "/contacts", None, json=body,
                                      headers={"Idempotency-Key": idempotency_key, "Contact-Channel": "web_form"})

    async def contact_status(self, status_token: str, referral_id: str) -> dict[str, Any]:
        """A contact's status, with the referrer's own status token."""
        return await self.json_object("GET", f"/contacts/{segment(referral_id)}", status_token)
