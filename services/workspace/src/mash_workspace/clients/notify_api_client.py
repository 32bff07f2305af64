"""Notify's API as the pages use it: exactly what a decision would send, before it is made."""

from __future__ import annotations

from typing import Any

from mash_workspace.clients.base import ServiceClient


class NotifyApiClient(ServiceClient):
    """The hand-off's messages."""

    async def preview_handoff(self, token: str, decision: dict[str, Any]) -> list[dict[str, Any]]:
        """Exactly what each recipient would be sent for `decision` (nothing sent)."""
        return await self.json_list("POST", "/previews", token, json={"decision": decision})
