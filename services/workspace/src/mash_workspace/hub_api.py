"""The services' HTTP APIs as the workspace calls them, always with the signed-in person's token.

The workspace holds no case data: every page is read from the service that owns it, as that person,
so the service decides what their role may see and audits the read. A refusal comes back as
`ApiError` with the service's own message and the fields it named, for the page's error summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from mash_workspace.settings import WorkspaceSettings


@dataclass
class ApiError(Exception):
    """A service refused: its status, message and the fields it named (field path -> message)."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"


def _segment(value: str) -> str:
    """A value as one path segment of a service's URL, whatever it holds.

    The pages check identifiers at the edge (mash_workspace.web.IDENTIFIER); this is the second line: a
    slash, a dot-dot, a question mark or a control character in a value can never change which resource
    is asked for or make the URL one httpx refuses.
    """
    return quote(value, safe="") if value not in (".", "..") else quote(value, safe="").replace(".", "%2E")


def _error_of(response: httpx.Response) -> ApiError:
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


class HubApi:
    """One HTTP client per service; every call names the caller's bearer token (or none, for the public)."""

    def __init__(self, settings: WorkspaceSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        def client(base: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=base, timeout=settings.api_timeout_seconds, transport=transport)

        self.intake = client(settings.intake_url)
        self.decision = client(settings.decision_url)
        self.enquiry = client(settings.enquiry_url)
        self.notify = client(settings.notify_url)
        self.insight = client(settings.insight_url)

    async def close(self) -> None:
        """Close every client."""
        for client in (self.intake, self.decision, self.enquiry, self.notify, self.insight):
            await client.aclose()

    @staticmethod
    async def _call(
        client: httpx.AsyncClient, method: str, path: str, token: str | None, *,
        json: Any = None, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
    ) -> Any:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await client.request(method, path, json=json, params=params, headers=sent)
        except httpx.HTTPError as exc:  # down, refusing connections or too slow: a refusal the pages can show
            raise ApiError(503, f"{client.base_url.host} did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json()

    # --- the desk (decision) --------------------------------------------------------------------------

    async def queue(self, token: str, state: str | None, rating: str | None) -> list[dict[str, Any]]:
        """The desk's queue, most urgent first."""
        params = {key: value for key, value in (("state", state), ("rating", rating)) if value}
        result: list[dict[str, Any]] = await self._call(self.decision, "GET", "/queue", token, params=params)
        return result

    async def case_file(self, token: str, referral_id: str, reason: str) -> dict[str, Any]:
        """The case file as the caller's role may see it (the read is audited with `reason`)."""
        result: dict[str, Any] = await self._call(
            self.decision, "GET", f"/cases/{_segment(referral_id)}", token, params={"reason": reason})
        return result

    async def audit_trail(self, token: str, referral_id: str) -> list[dict[str, Any]]:
        """Who viewed or changed the case (managers)."""
        result: list[dict[str, Any]] = await self._call(
            self.decision, "GET", f"/cases/{_segment(referral_id)}/audit", token)
        return result

    async def screen(self, token: str, referral_id: str, body: dict[str, Any]) -> None:
        """Confirm or change the rating."""
        await self._call(self.decision, "POST", f"/cases/{_segment(referral_id)}/screening", token, json=body)

    async def route(self, token: str, referral_id: str, body: dict[str, Any]) -> None:
        """Route to the allocated worker."""
        await self._call(self.decision, "POST", f"/cases/{_segment(referral_id)}/routing", token, json=body)

    async def open_enquiry(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Open a MASH enquiry."""
        result: dict[str, Any] = await self._call(
            self.decision, "POST", f"/cases/{_segment(referral_id)}/enquiry", token, json=body)
        return result

    async def preview_decision(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The decision as it would be recorded (nothing stored)."""
        result: dict[str, Any] = await self._call(
            self.decision, "POST", f"/cases/{_segment(referral_id)}/decision/preview", token, json=body)
        return result

    async def preview_transfer(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Exactly what a transfer to another hub would send (nothing sent)."""
        result: dict[str, Any] = await self._call(
            self.decision, "POST", f"/cases/{_segment(referral_id)}/transfer/preview", token, json=body)
        return result

    async def transfer(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Transfer the contact to another hub of the region."""
        result: dict[str, Any] = await self._call(
            self.decision, "POST", f"/cases/{_segment(referral_id)}/transfer", token, json=body)
        return result

    async def decide(self, token: str, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record the decision."""
        result: dict[str, Any] = await self._call(
            self.decision, "POST", f"/cases/{_segment(referral_id)}/decision", token, json=body)
        return result

    # --- notify -----------------------------------------------------------------------------------------

    async def preview_handoff(self, token: str, decision: dict[str, Any]) -> list[dict[str, Any]]:
        """Exactly what each recipient would be sent for `decision` (nothing sent)."""
        result: list[dict[str, Any]] = await self._call(
            self.notify, "POST", "/previews", token, json={"decision": decision})
        return result

    # --- enquiry ----------------------------------------------------------------------------------------

    async def agencies(self, token: str) -> list[dict[str, str]]:
        """The partner agencies the hub may ask."""
        result: list[dict[str, str]] = await self._call(self.enquiry, "GET", "/agencies", token)
        return result

    async def enquiry_progress(self, token: str, enquiry_id: str) -> dict[str, Any]:
        """Who answered, who is late."""
        result: dict[str, Any] = await self._call(self.enquiry, "GET", f"/enquiries/{_segment(enquiry_id)}", token)
        return result

    async def agency_requests(self, token: str, agency: str) -> list[dict[str, Any]]:
        """The agency's unanswered requests."""
        result: list[dict[str, Any]] = await self._call(
            self.enquiry, "GET", f"/agencies/{_segment(agency)}/requests", token)
        return result

    async def agency_request(self, token: str, agency: str, enquiry_id: str) -> dict[str, Any]:
        """One request to the agency."""
        result: dict[str, Any] = await self._call(
            self.enquiry, "GET", f"/agencies/{_segment(agency)}/requests/{_segment(enquiry_id)}", token)
        return result

    async def agency_answer(self, token: str, agency: str, enquiry_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Answer as the agency."""
        result: dict[str, Any] = await self._call(
            self.enquiry, "POST", f"/agencies/{_segment(agency)}/requests/{_segment(enquiry_id)}/response",
            token, json=body)
        return result

    # --- intake -----------------------------------------------------------------------------------------

    async def submit_contact(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Report a concern; the key makes a double-click or a retry the same contact."""
        result: dict[str, Any] = await self._call(
            self.intake, "POST", "/contacts", None, json=body,
            headers={"Idempotency-Key": idempotency_key, "Contact-Channel": "web_form"})
        return result

    async def contact_status(self, status_token: str, referral_id: str) -> dict[str, Any]:
        """A contact's status, with the referrer's own status token."""
        result: dict[str, Any] = await self._call(
            self.intake, "GET", f"/contacts/{_segment(referral_id)}", status_token)
        return result

    # --- insight (the hub's figures; analysts and managers) ------------------------------------------------

    async def figures(self, token: str, name: str, params: dict[str, str]) -> dict[str, Any]:
        """One of insight's reports: performance, agencies, areas, consultations or rising-concern."""
        result: dict[str, Any] = await self._call(
            self.insight, "GET", f"/figures/{_segment(name)}", token, params=params)
        return result

    async def commissioners_csv(self, token: str, params: dict[str, str]) -> tuple[str, str]:
        """The commissioners' export (small numbers suppressed) and its file name."""
        try:
            response = await self.insight.get("/export/commissioners.csv", params=params,
                                              headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise ApiError(503, f"insight did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise _error_of(response)
        disposition = response.headers.get("content-disposition", "")
        name = disposition.split("filename=")[-1].strip('"') if "filename=" in disposition else "mash-figures.csv"
        return response.text, name

    # --- information governance (issue 15): subject access and "who looked" ----------------------------

    async def start_subject_access(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """Start a subject access request (managers; decision audits it)."""
        result: dict[str, Any] = await self._call(self.decision, "POST", "/subject-access-requests", token, json=body)
        return result

    async def subject_access_requests(self, token: str) -> list[dict[str, Any]]:
        """Every subject access request with its deadline."""
        result: list[dict[str, Any]] = await self._call(self.decision, "GET", "/subject-access-requests", token)
        return result

    async def extend_subject_access(self, token: str, request_id: str, reason: str) -> dict[str, Any]:
        """Extend the request's deadline by two further months (managers; decision refuses a second or late one)."""
        result: dict[str, Any] = await self._call(
            self.decision, "POST", f"/subject-access-requests/{_segment(request_id)}/extension",
            token, json={"reason": reason})
        return result

    async def subject_access_export(self, token: str, request_id: str, reason: str, form: str) -> dict[str, Any]:
        """The assembled answer (decision audits it as an export, with `reason`)."""
        result: dict[str, Any] = await self._call(
            self.decision, "GET", f"/subject-access-requests/{_segment(request_id)}", token,
            params={"reason": reason, "format": form})
        return result

    async def referrals_of(self, token: str, person_ref: str, reason: str) -> list[str]:
        """The referrals naming a person, for the audit report."""
        result: dict[str, Any] = await self._call(
            self.decision, "GET", f"/people/{_segment(person_ref)}/referrals", token, params={"reason": reason})
        return [str(referral_id) for referral_id in result.get("referral_ids", [])]

    async def audit_records(self, token: str, referral_ids: list[str], person_ref: str | None,
                            period: dict[str, str], reason: str) -> list[dict[str, Any]]:
        """Every service's own audit records about the referrals or the person, each read by that service."""
        params: list[tuple[str, str | int | float | bool | None]] = [("referral_id", r) for r in referral_ids]
        params += [(name, value) for name, value in period.items() if value]
        params += [("person_ref", person_ref)] if person_ref else []
        params.append(("reason", reason))
        found: list[dict[str, Any]] = []
        for client in (self.intake, self.decision, self.enquiry, self.notify, self.insight):
            try:
                response = await client.get("/audit", params=params, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as exc:
                raise ApiError(503, f"{client.base_url.host} did not answer ({type(exc).__name__})") from exc
            if response.status_code >= 400:
                raise _error_of(response)
            found += response.json()
        return sorted(found, key=lambda record: str(record.get("at", "")))

    async def permission_requests(self, token: str, agency: str) -> list[dict[str, Any]]:
        """Subject access: the agency's sealed items awaiting its permission to release (enquiry audits it)."""
        result: list[dict[str, Any]] = await self._call(
            self.enquiry, "GET", f"/agencies/{_segment(agency)}/permission-requests", token)
        return result

    async def answer_permission(self, token: str, agency: str, permission_id: str, permitted: bool,
                                note: str | None) -> dict[str, Any]:
        """Permit or refuse one release, as the agency."""
        result: dict[str, Any] = await self._call(
            self.enquiry, "POST", f"/agencies/{_segment(agency)}/permission-requests/{_segment(permission_id)}", token,
            json={"permitted": permitted, "note": note})
        return result
