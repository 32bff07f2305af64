"""The audit log: every view and every release of case information, attributable.

Records say who, in what role, did what, to which referral, when and why. They never copy case
content: they name items by id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from mash_runtime.auth import Principal
from mash_runtime.clock import Clock, utc_now


class AuditLog:
    """Appends audit records to one collection (insert-only)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], service: str, clock: Clock = utc_now) -> None:
        self.collection = collection
        self._service = service
        self._clock = clock

    async def record(
        self,
        *,
        who: Principal | str,
        action: str,
        referral_id: str | None,
        why: str,
        what: dict[str, Any] | None = None,
    ) -> None:
        """Write one record; raises if it cannot, so an unaudited view never happens silently."""
        subject, roles = (who.subject, who.role_names) if isinstance(who, Principal) else (who, "system")
        await self.collection.insert_one(
            {
                "_id": str(uuid.uuid4()),
                "at": self._clock(),
                "service": self._service,
                "who": subject,
                "roles": roles,
                "action": action,
                "referral_id": referral_id,
                "why": why,
                "what": what or {},
            }
        )

    async def for_referral(self, referral_id: str) -> list[dict[str, Any]]:
        """Every record about one referral, oldest first."""
        cursor = self.collection.find({"referral_id": referral_id}).sort("at", 1)
        return [doc async for doc in cursor]

    async def search(
        self, *, referral_ids: list[str], person_ref: str | None, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        """Every record about these referrals, or naming this person (`what.person_ref`), in a period, oldest first.

        For "who looked at this family's records": one service's part of the report, from its own collection.
        """
        about: list[dict[str, Any]] = [{"referral_id": {"$in": referral_ids}}] if referral_ids else []
        if person_ref:
            about.append({"what.person_ref": person_ref})
        if not about:
            return []
        query: dict[str, Any] = {"$or": about}
        period: dict[str, Any] = {}
        if since is not None:
            period["$gte"] = since
        if until is not None:
            period["$lt"] = until
        if period:
            query = {"$and": [query, {"at": period}]}
        cursor = self.collection.find(query).sort("at", 1)
        return [doc async for doc in cursor]
