"""What every service client shares: the signed-in person's token on each call, and refusals as `ApiError`.

The workspace holds no case data: every page is read from the service that owns it, as that person, so the
service decides what their role may see and audits the read. A refusal comes back as `ApiError` with the
service's own message and the fields it named, for the page's error summary; a service that is down, refuses
connections or is too slow is a 503 `ApiError` the pages show as the problem page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

import httpx

QueryPairs = list[tuple[str, str | int | float | bool | None]]
Params = dict[str, str] | QueryPairs

log = logging.getLogger(__name__)


@dataclass
class ApiError(Exception):
    """A service refused: its status, message and the fields it named (field path -> message)."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"


def segment(value: str) -> str:
    """A value as one path segment of a service's URL, whatever it holds.

    The pages check identifiers at the edge (mash_workspace.web.IDENTIFIER); this is the second line: a
    slash, a dot-dot, a question mark or a control character in a value can never change which resource
    is asked for or make the URL one httpx refuses.
    """
    return quote(value, safe="") if value not in (".", "..") else quote(value, safe="").replace(".", "%2E")


def error_of(response: httpx.Response) -> ApiError:
    """A service's refusal as an ApiError: the hub's error body (mash_runtime.http), or what else it sent."""
    try:
        body = response.json()
    except ValueError:
        return ApiError(response.status_code, response.text[:200] or response.reason_phrase)
    if not isinstance(body, dict):
        return ApiError(response.status_code, str(body)[:200])
    message = body.get("message") or body.get("detail") or "the request was refused"
    fields: dict[str, str] = {}
    for entry in body.get("fields", []) or []:
        if isinstance(entry, dict) and "field" in entry:
            fields.setdefault(str(entry["field"]), str(entry.get("message", "")))
    return ApiError(response.status_code, str(message), fields)


class ServiceClient:
    """One service's HTTP API; every call names the caller's bearer token (or none, for the public)."""

    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def send(self, method: str, path: str, token: str | None, *, json: Any = None,
                   params: Params | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        """The service's answer, or ApiError for a refusal (4xx, 5xx) or no answer at all (503)."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self.http.request(method, path, json=json, params=params, headers=sent)
        except httpx.HTTPError as exc:  # down, refusing connections or too slow: a refusal the pages can show
            # The person sees the problem page; the operator needs which service and why (never the path's values).
            log.warning("service did not answer", extra={"fields": {
                "service": str(self.http.base_url), "method": method, "error": type(exc).__name__}})
            raise ApiError(503, f"{self.http.base_url.host} did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            log.warning("service failed", extra={"fields": {
                "service": str(self.http.base_url), "method": method, "status": response.status_code}})
        if response.status_code >= 400:
            raise error_of(response)
        return response

    async def json_object(self, method: str, path: str, token: str | None, **sent: Any) -> dict[str, Any]:
        """A call whose answer is a JSON object."""
        return cast(dict[str, Any], (await self.send(method, path, token, **sent)).json())

    async def json_list(self, method: str, path: str, token: str | None, **sent: Any) -> list[dict[str, Any]]:
        """A call whose answer is a JSON list of objects."""
        return cast(list[dict[str, Any]], (await self.send(method, path, token, **sent)).json())

    async def audit(self, token: str, params: Params) -> list[dict[str, Any]]:
        """The service's own audit records: every service answers GET /audit, checks the role and audits the read."""
        return await self.json_list("GET", "/audit", token, params=params)
