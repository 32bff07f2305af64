"""The audit log: every view and every release of case information, attributable.

Records say who, in what role, did what, to which referral, when and why. They never copy case
content: they name items by id.
"""

from __future__ import annotations

import uuid
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
