"""`GET /audit` on every service: its own part of "who looked at this family's records".

The workspace gathers the report from each service's HTTP API, as the signed-in manager or operations
officer, rather than by an event-based gather: the report is a read that someone waits for, audit records
(who looked at whom) would otherwise travel on a topic other groups can read, and each service checks the
caller's role itself and audits the read of its audit log like any other read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query

from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, require_roles
from mash_runtime.roles import Role


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def report_row(record: dict[str, Any]) -> dict[str, Any]:
    """One audit record as the report shows it: who, in what role, did what, to which referral, when, why."""
    at = record["at"]
    return {
        "at": at.isoformat() if isinstance(at, datetime) else str(at),
        "service": record.get("service"),
        "who": record.get("who"),
        "roles": record.get("roles"),
        "action": record.get("action"),
        "referral_id": record.get("referral_id"),
        "why": record.get("why"),
        "what": record.get("what") or {},
    }


def install_audit_report(app: FastAPI, audit: AuditLog) -> None:
    """Mount `GET /audit?referral_id=..&person_ref=..&from=..&to=..` (manager or operations; the read audited)."""
    router = APIRouter(tags=["audit"])
    readers = require_roles(Role.MANAGER, Role.OPERATIONS)

    @router.get("/audit", summary="Audit records about referrals or a person over a period (audited)")
    async def audit_report(
        referral_id: Annotated[list[str], Query(max_length=500)] = [],  # noqa: B006 - FastAPI reads the default
        person_ref: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: Annotated[date | None, Query(description="Last day included.")] = None,
        reason: Annotated[str, Query(min_length=3, max_length=200)] = "audit report",
        principal: Principal = readers,
    ) -> list[dict[str, Any]]:
        until = _start_of(to + timedelta(days=1)) if to else None
        records = await audit.search(referral_ids=referral_id, person_ref=person_ref, since=_start_of(from_),
                                     until=until)
        # Kept apart from the records it reads (no referral_id, no person_ref), so a report never lists itself.
        await audit.record(who=principal, action="audit.read", referral_id=None, why=reason,
                           what={"report_for": {"referral_ids": referral_id, "person": person_ref},
                                 "from": str(from_ or ""), "to": str(to or ""), "records": len(records)})
        return [report_row(record) for record in records]

    app.include_router(router)
