"""A subject access request on the manager's desk: its deadline, the parts the services answer, the export.

Pure: no database, broker or clock. The desk (mash_decision.subject_access) gives it the time.

The deadline is one calendar month from receipt: the corresponding date in the next month, or that month's
last day when it has no such date (31 January -> 28 February), as the ICO's guidance on the right of
access counts it. The request is overdue once that day has passed without the answer being exported.

Every item that names other people is marked for redaction review, and every sealed item is withheld until
its supplying agency gives permission: the part carried only its reference, so the export cannot show more.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any, Literal

from mash_schemas.subject_access import PersonIdentifiers, SubjectAccessPart
from pydantic import AwareDatetime, BaseModel, Field

SERVICES = ("intake", "decision", "enquiry", "notify", "insight")
"""Every service that holds records about people and answers its part."""


def one_calendar_month(received: date) -> date:
    """The day a response is due: the same date next month, or the next month's last day if it is shorter."""
    year, month = (received.year + 1, 1) if received.month == 12 else (received.year, received.month + 1)
    return date(year, month, min(received.day, calendar.monthrange(year, month)[1]))


class PermissionRequest(BaseModel):
    """The supplying agency is asked before a sealed item is released to the person."""

    permission_id: str = ""
    agency: str
    item_id: str
    referral_id: str | None = None
    requested_at: AwareDatetime
    status: Literal["awaiting_agency", "permitted", "refused"] = "awaiting_agency"
    answered_by: str | None = None
    answered_at: AwareDatetime | None = None
    note: str | None = None


class SubjectAccessCase(BaseModel):
    """One request: who it is about, why, by when, and each service's part as it arrives."""

    request_id: str
    person: PersonIdentifiers
    reason: str
    requested_by: str
    received_at: AwareDatetime
    due_on: date
    referral_ids: list[str] = Field(default_factory=list)
    parts: dict[str, SubjectAccessPart] = Field(default_factory=dict)
    permission_requests: list[PermissionRequest] = Field(default_factory=list)

    def record_part(self, part: SubjectAccessPart, now: datetime) -> bool:
        """Keep a service's part (the first one only) and ask each sealed item's agency for permission."""
        if part.service in self.parts:
            return False
        self.parts[part.service] = part
        asked = {(p.agency, p.item_id) for p in self.permission_requests}
        for withheld in part.withheld:
            if (withheld.agency, withheld.item_id) not in asked:
                asked.add((withheld.agency, withheld.item_id))
                self.permission_requests.append(PermissionRequest(
                    permission_id=f"{self.request_id}:{withheld.agency}:{withheld.item_id}", agency=withheld.agency,
                    item_id=withheld.item_id, referral_id=withheld.referral_id, requested_at=now))
        return True

    def record_permission(self, permission_id: str, permitted: bool, by: str, at: datetime,
                          note: str | None) -> bool:
        """The agency's answer (the first one stands: a release cannot be taken back once exported)."""
        for permission in self.permission_requests:
            if permission.permission_id == permission_id and permission.status == "awaiting_agency":
                permission.status = "permitted" if permitted else "refused"
                permission.answered_by, permission.answered_at, permission.note = by, at, note
                return True
        return False

    def missing(self) -> list[str]:
        """The services whose part has not arrived yet."""
        return [service for service in SERVICES if service not in self.parts]

    def timing(self, today: date) -> Literal["due", "overdue"]:
        """Due until the end of the due day; overdue after it (whether or not parts are still missing)."""
        return "overdue" if today > self.due_on else "due"

    def summary(self, today: date) -> dict[str, Any]:
        """The request as the list shows it: no item content."""
        return {
            "request_id": self.request_id, "person": self.person.model_dump(mode="json"),
            "received_at": self.received_at.isoformat(), "due_on": self.due_on.isoformat(),
            "timing": self.timing(today), "parts_received": sorted(self.parts), "parts_missing": self.missing(),
            "complete": not self.missing(),
        }

    def export(self, today: date) -> dict[str, Any]:
        """The assembled answer, every item marked for review where it names others or is sealed."""
        items: list[dict[str, Any]] = []
        withheld: list[dict[str, Any]] = []
        for service in SERVICES:
            part = self.parts.get(service)
            if part is None:
                continue
            for item in part.items:
                review = [f"names other people: {', '.join(item.third_parties)}"] if item.third_parties else []
                items.append({"service": service, **item.model_dump(mode="json"),
                              "redaction_review": review})
            for sealed in part.withheld:
                permission = next((p for p in self.permission_requests
                                   if (p.agency, p.item_id) == (sealed.agency, sealed.item_id)), None)
                status = permission.status if permission else "awaiting_agency"
                shown_as = {"permitted": f"released with {sealed.agency}'s permission",
                            "refused": f"withheld: {sealed.agency} refused permission"}.get(
                    status, f"withheld until {sealed.agency} gives permission")
                withheld.append({
                    "service": service, "agency": sealed.agency, "item_id": sealed.item_id,
                    "referral_id": sealed.referral_id, "shown_as": shown_as,
                    "redaction_review": ["sealed item supplied by an agency"],
                    "permission": status,
                })
        return {**self.summary(today), "reason": self.reason, "requested_by": self.requested_by,
                "items": items, "withheld": withheld,
                "permission_requests": [p.model_dump(mode="json") for p in self.permission_requests]}
