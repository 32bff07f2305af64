"""Insight's API as the pages use it: the hub's figures and the commissioners' export (analysts and managers)."""

from __future__ import annotations

from typing import Any

from mash_workspace.clients.base import ServiceClient, segment


class InsightApiClient(ServiceClient):
    """The hub's figures."""

    async def figures(self, token: str, name: str, params: dict[str, str]) -> dict[str, Any]:
        """One of insight's reports: performance, agencies, areas, consultations, thresholds or rising-concern."""
        return await self.json_object("GET", f"/figures/{segment(name)}", token, params=params)

    async def commissioners_csv(self, token: str, params: dict[str, str]) -> tuple[str, str]:
        """The commissioners' export (small numbers suppressed) and its file name."""
        response = await self.send("GET", "/export/commissioners.csv", token, params=params)
        disposition = response.headers.get("content-disposition", "")
        name = disposition.split("filename=")[-1].strip('"') if "filename=" in disposition else "mash-figures.csv"
        return response.text, name
