"""Claiming a due delivery before sending it, so that one message goes out once.

A sender takes a delivery it found due from `queued` to `sending` in one update conditional on the version
it read (`_version`, the same counter every store write checks), naming itself and a lease. Of several senders
that found the same due message — two replicas, or one replica's sweep racing a restart — exactly one
update matches, and only that one sends. The result is recorded afterwards, still conditional on the claim.

A claimant that dies between claim and record leaves the message `sending`. Nobody can know whether the
receiving server took it, so it is sent again: at once by the same replica when it restarts (it takes back
the claims under its own name), or by any replica once the lease has run out. That repeat carries the same
Message-ID / Idempotency-Key (the notification id), which is how the receiving end recognises it.

The lease must outlast a send: every send is cut off after `send_timeout_seconds`, and the lease is longer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mash_runtime.store import VERSION
from pymongo.asynchronous.collection import AsyncCollection

CLAIM_FIELDS = ("claimed_by", "claim_token", "claim_expires_at")


@dataclass(frozen=True)
class Claim:
    """A sender's hold on one delivery: it alone may send it and record the result."""

    notification_id: str
    token: str
    delivery: dict[str, Any]


class Claims:
    """Finds due deliveries and claims them, under this replica's name."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], replica: str, lease: timedelta) -> None:
        self._collection = collection
        self.replica = replica
        self._lease = lease

    def _due_query(self, now: datetime) -> dict[str, Any]:
        return {"$or": [
            {"status": "queued", "next_attempt_at": {"$lte": now}},
            {"status": "sending", "claim_expires_at": {"$lte": now}},  # a claimant died; its lease ran out
        ]}

    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Due deliveries (whole documents, so that claiming needs no second read), soonest first."""
        cursor = self._collection.find(self._due_query(now)).sort("next_attempt_at", 1).limit(limit)
        return [doc async for doc in cursor]

    async def claim(self, delivery: dict[str, Any], now: datetime) -> Claim | None:
        """Take `delivery` for this replica; None when another sender changed it first."""
        token = uuid.uuid4().hex
        # The version alone says nobody changed the delivery since it was read (status included); a filter of
        # exactly `_id` and `_version` is also the one mongo-java-server serves from an index.
        result = await self._collection.update_one(
            {"_id": delivery["_id"], VERSION: delivery[VERSION]},
            {"$set": {"status": "sending", "claimed_by": self.replica, "claim_token": token,
                      "claim_expires_at": now + self._lease},
             "$inc": {VERSION: 1}},
        )
        if result.matched_count != 1:
            return None
        return Claim(notification_id=delivery["_id"], token=token, delivery=delivery)

    async def take_back_own(self, now: datetime) -> int:
        """At start-up: this replica's claims are from a life that ended mid-send; make them due now."""
        result = await self._collection.update_many(
            {"status": "sending", "claimed_by": self.replica},
            {"$set": {"claim_expires_at": now}, "$inc": {VERSION: 1}},
        )
        return result.modified_count


def holds(current: dict[str, Any] | None, claim: Claim) -> bool:
    """Whether `claim` still holds on the stored delivery (nobody took it over after its lease ran out)."""
    return current is not None and current.get("status") == "sending" and current.get("claim_token") == claim.token


def released(state: dict[str, Any]) -> dict[str, Any]:
    """`state` without the claim's fields."""
    return {k: v for k, v in state.items() if k not in CLAIM_FIELDS}
