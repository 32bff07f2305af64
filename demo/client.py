"""A client for the hub's HTTP APIs, acting as a referrer, a screener, a MASH manager or operations.

Where a service runs as several copies (`HubConfig.replicas`), calls go to each copy in turn, as a load
balancer in front of the replicas would send them.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET

from demo.hub import Hub


class HubClient:
    """Calls intake, decision and notify as named hub staff (tokens signed with the development key)."""

    def __init__(
        self, hub: Hub, secret: str = DEVELOPMENT_JWT_SECRET, timeout: float = 15.0, keepalive: bool = True
    ) -> None:
        self.hub = hub
        # uvicorn closes a connection idle for 5 s. A client slow to read its last response (a crowded machine)
        # can reuse it just after, and fail with "Server disconnected": idle connections are dropped after 2 s,
        # and `keepalive=False` opens a connection per request.
        limits = httpx.Limits(keepalive_expiry=2.0, max_keepalive_connections=None if keepalive else 0)
        self._http = httpx.AsyncClient(timeout=timeout, limits=limits)
        self.manager = {"Authorization": f"Bearer {issue_token(secret, 'Mo Patel (MASH manager)', [Role.MANAGER])}"}
        self.screener = {"Authorization": f"Bearer {issue_token(secret, 'Jo Reed (screener)', [Role.SCREENER])}"}
        self.analyst = {"Authorization": f"Bearer {issue_token(secret, 'Ali Shah (analyst)', [Role.ANALYST])}"}
        self.operations = {"Authorization": f"Bearer {issue_token(secret, 'Ops on call', [Role.OPERATIONS])}"}
        self._turns = itertools.count()

    def url(self, service: str) -> str:
        """The base URL of the copy of `service` whose turn it is."""
        urls = self.hub.urls(service)
        return urls[next(self._turns) % len(urls)]

    async def close(self) -> None:
        """Release connections."""
        await self._http.aclose()

    async def submit_contact(self, contact: dict[str, Any], idempotency_key: str | None = None) -> httpx.Response:
        """POST /contacts as a referrer."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return await self._http.post(f"{self.url('intake')}/contacts", json=contact, headers=headers)

    async def contact_status(self, referral_id: str, token: str) -> httpx.Response:
        """GET /contacts/{id} with the referrer's status token."""
        return await self._http.get(f"{self.url('intake')}/contacts/{referral_id}",
                                    headers={"Authorization": f"Bearer {token}"})

    async def case(self, referral_id: str, as_: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The case file view, or None while it does not exist yet."""
        response = await self._http.get(f"{self.url('decision')}/cases/{referral_id}", headers=as_ or self.manager)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def desk(self, referral_id: str, step: str, body: dict[str, Any], as_: dict[str, str] | None = None
                   ) -> httpx.Response:
        """POST one of the desk's steps: screening, enquiry, routing, decision."""
        return await self._http.post(f"{self.url('decision')}/cases/{referral_id}/{step}", json=body,
                                     headers=as_ or self.manager)

    async def queue(self) -> list[dict[str, Any]]:
        """The desk's queue."""
        response = await self._http.get(f"{self.url('decision')}/queue", headers=self.screener)
        response.raise_for_status()
        queue: list[dict[str, Any]] = response.json()
        return queue

    async def deliveries(self, referral_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Notify's delivery log."""
        params = {k: v for k, v in {"referral_id": referral_id, "status": status}.items() if v}
        response = await self._http.get(f"{self.url('notify')}/deliveries", params=params,
                                        headers=self.operations)
        response.raise_for_status()
        deliveries: list[dict[str, Any]] = response.json()
        return deliveries
