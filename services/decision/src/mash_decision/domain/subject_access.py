"""A subject access request on the manager's desk: its deadline, the parts the services answer, the export.

Pure: no database, broker or clock. The desk (mash_decision.subject_access_desk) gives it the time.

The deadline is one calendar month from receipt: the corresponding date in the next month, or that month's
last day when it has no such date (31 January -> 28 February), as the ICO's guidance on the right of
access counts it. The request is overdue once that day has passed without the answer being exported.

Where a request is complex or numerous, UK GDPR Art. 12(3) lets the controller extend the deadline by two
further months, telling the person within the first month and saying why. The case records the extension
once (who, when, why, the original due day): three calendar months from receipt, counted the same way. An
overdue request cannot be extended: the first month is the only time the person can be told.

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


def calendar_months_after(received: date, months: int) -> date:
    """The same date `months` later, or that month's last day if it is shorter (31 January + 1 -> 28 February)."""
    count = received.month - 1 + months
    year, month = received.year + count // 12, count % 12 + 1
    return date(year, month, min(received.day, calendar.monthrange(year, month)[1]))


def one_calendar_month(received: date) -> date:
    """The day a response is due: the same date next month, or the next month's last day if it is shorter."""
    return calendar_months_after(received, 1)


def three_calendar_months(received: date) -> date:
    """The day an extended response is due: the first month and the two further months Art. 12(3) allows."""
    return calendar_months_after(received, 3)


class SubjectAccessError(Exception):
    """A step the rules of the right of access do not allow on this request."""


class ExtensionNeedsReason(SubjectAccessError):
    """The person must be told why the deadline is extended, so the hub records the reason."""


class AlreadyExtended(SubjectAccessError):
    """Art. 12(3) allows one extension of two further months, no more."""


class ExtensionTooLate(SubjectAccessError):
    """The deadline passed: the person had to be told of an extension within the first month."""


class Extension(BaseModel):
    """The deadline extended by two further months: who decided, when, why, and the day it was due before."""

    reason: str
    by: str
    at: AwareDatetime
    original_due_on: date


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
    extension: Extension | None = None

    def extend(self, reason: str, by: str, at: datetime) -> None:
        """Extend the deadline to three calendar months from receipt (once, and only by the due day)."""
        if not reason.strip():
            raise ExtensionNeedsReason("say why the request needs longer: the person must be told the reason")
        if self.extension is not None:
            raise AlreadyExtended(f"the deadline was already extended on {self.extension.at.date().isoformat()}, "
                                  f"to {self.due_on.isoformat()}; it can be extended only once")
        if self.timing(at.date()) == "overdue":
            raise ExtensionTooLate(f"the request was due on {self.due_on.isoformat()}: an extension must be "
                                   "made, and the person told, within the first month")
        self.extension = Extension(reason=reason.strip(), by=by, at=at, original_due_on=self.due_on)
        self.due_on = three_calendar_months(self.received_at.date())

    def referrals_named(self) -> list[str]:
        """Every referral the request discloses something of: a legal hold on one keeps the request too."""
        named = set(self.referral_ids)
        for part in self.parts.values():
            named.update(item.referral_id for item in part.items if item.referral_id)
            named.update(item.referral_id for item in part.withheld if item.referral_id)
        named.update(p.referral_id for p in self.permission_requests if p.referral_id)
        return sorted(named)

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

    def record_permission(self, permission_id: str, *, permitted: bool, by: str, at: datetime,
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
            "extension": self.extension.model_dump(mode="json") if self.extension else None,
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
