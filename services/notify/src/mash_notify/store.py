"""Notify's MongoDB adapter, the only module that touches its collection: deliveries (the Delivery aggregate,
one document each with its outbox), the due-message query, and claims written conditionally on the version.

A claim is one update conditional on the version the sender read (`_version`, the same counter every store
write checks). Of several senders that found the same due message (two replicas, or one replica's sweep
racing a restart) exactly one update matches, and only that one sends. A filter of exactly `_id` and
`_version` is also the one mongo-java-server serves from an index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mash_runtime.outbox import OutboxEntry
from mash_runtime.retention import UNKNOWN_OUTCOME, RetainedRecord
from mash_runtime.store import VERSION, AggregateStore, Change, sweep_page
from mash_runtime.upcasting import STORED_UPCASTERS, StoredState
from mash_schemas.governance import RecordKind

from mash_notify.domain.delivery import ClaimHold, Delivery, LogLine
from mash_notify.domain.messages import OutgoingMessage

# What a decision on a delivery returns: the delivery as it now is and the events to publish, or None.
DeliveryDecision = Callable[[Delivery | None], tuple[Delivery, list[OutboxEntry]] | None]
LISTING_LIMIT = 500


@dataclass
class Found:
    """A delivery as read, with the version a claim on it is conditional on, and its whole document (kept up to
    date by `save_claim`, so that the result of the send is written on it without reading it again)."""

    delivery: Delivery
    version: int
    document: dict[str, Any] = field(default_factory=dict, repr=False)


def delivery_document(delivery: Delivery) -> dict[str, Any]:
    """The delivery as stored: flat fields for the queries and the listing, the message whole."""
    message = delivery.message
    state: dict[str, Any] = {
        "notification_id": message.notification_id,
        "referral_id": message.referral_id,
        "decision_id": message.decision_id,
        "kind": message.kind.value,
        "channel": message.channel,
        "to": message.recipient_label,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "queued_at": delivery.queued_at,
        "next_attempt_at": delivery.next_attempt_at,
        "message": message.model_dump(mode="json"),
        "log": [{"at": line.at, "status": line.status, "reason": line.reason} for line in delivery.log],
    }
    if delivery.last_error is not None:
        state["last_error"] = delivery.last_error
    if delivery.sent_at is not None:
        state["sent_at"] = delivery.sent_at
    if delivery.resends:
        state["resends"] = delivery.resends
    state.update(_claim_fields(delivery))
    return state


def _claim_fields(delivery: Delivery) -> dict[str, Any]:
    if delivery.claim is None:
        return {}
    return {"claimed_by": delivery.claim.replica, "claim_token": delivery.claim.token,
            "claim_expires_at": delivery.claim.expires_at}


def delivery_from_document(state: dict[str, Any]) -> Delivery:
    """The Delivery a stored document holds."""
    claim = None
    if state.get("claim_token") is not None:
        claim = ClaimHold(state["claimed_by"], state["claim_token"], state["claim_expires_at"])
    return Delivery(
        message=OutgoingMessage.model_validate(state["message"]),
        status=state["status"],
        attempts=state["attempts"],
        queued_at=state["queued_at"],
        next_attempt_at=state["next_attempt_at"],
        log=[LogLine(line["at"], line["status"], line.get("reason")) for line in state["log"]],
        last_error=state.get("last_error"),
        sent_at=state.get("sent_at"),
        resends=state.get("resends", 0),
        claim=claim,
    )


class NotifyStore:
    """Deliveries: queued once, claimed before sending, updated with their outbox events."""

    def __init__(self, deliveries: AggregateStore) -> None:
        self.deliveries = deliveries
        self._collection = deliveries.collection

    async def ensure_indexes(self) -> None:
        """The due-message query (queued by time, sending by lease) and the listing by referral."""
        await self._collection.create_index([("status", 1), ("next_attempt_at", 1)])
        await self._collection.create_index([("status", 1), ("claim_expires_at", 1)])
        await self._collection.create_index("referral_id")

    async def queue(self, delivery: Delivery) -> bool:
        """Keep a new delivery; False when it is queued already (a redelivered or re-published decision).

        Inserted without a read first: a delivery's id is new but for a repeat, whose insert is refused on it.
        """
        return await self.deliveries.apply(
            delivery.notification_id,
            lambda current: None if current is not None else Change(state=delivery_document(delivery)),
            likely_new=True,
        )

    async def get(self, notification_id: str) -> Delivery | None:
        """The delivery `notification_id`, or None."""
        state = await self.deliveries.get(notification_id)
        return delivery_from_document(state) if state is not None else None

    async def change_delivery(
        self, notification_id: str, decide: DeliveryDecision, *, seen: Found | None = None
    ) -> bool:
        """Run `decide` on the delivery and store its result with its events in one write; False if unchanged.

        `seen`: the delivery as this sender last read or claimed it; decided on without reading it again, and
        read afresh only if someone has written it since (the version check tells).
        """

        def on_state(state: dict[str, Any] | None) -> Change | None:
            decided = decide(delivery_from_document(state) if state is not None else None)
            if decided is None:
                return None
            delivery, events = decided
            return Change(state=delivery_document(delivery), events=events)

        return await self.deliveries.apply(notification_id, on_state,
                                           seen=seen.document if seen is not None and seen.document else None)

    async def due(self, now: datetime, limit: int) -> list[Found]:
        """Due deliveries (Delivery.is_due), soonest first, each with the version its claim is conditional on.

        Each document found is checked again here: mongo-java-server can return, from its indexes, a document
        that another writer changed meanwhile so that it no longer matches the query (measured: 65 of 868
        under concurrent claims). Such a one, claimed by another sender a moment ago, would be claimed again
        on its new version and sent twice; it is not due, and is left alone.
        """
        query = {"$or": [
            {"status": "queued", "next_attempt_at": {"$lte": now}},
            {"status": "sending", "claim_expires_at": {"$lte": now}},  # a claimant died; its lease ran out
        ]}
        cursor = self._collection.find(query).sort("next_attempt_at", 1).limit(limit)
        found = [Found(delivery_from_document(self.deliveries.loaded_state(doc)), doc[VERSION], doc)
                 async for doc in cursor]
        return [each for each in found if each.delivery.is_due(now)]

    async def save_claim(self, found: Found) -> bool:
        """Write the claim `found.delivery` now holds, if nobody changed the delivery since it was read."""
        delivery = found.delivery
        claimed = {"status": delivery.status, **_claim_fields(delivery)}
        result = await self._collection.update_one(
            {"_id": delivery.notification_id, VERSION: found.version}, {"$set": claimed, "$inc": {VERSION: 1}},
        )
        if result.matched_count != 1:
            return False
        found.version += 1
        if found.document:
            found.document = {**found.document, **claimed, VERSION: found.version}
        return True

    async def take_back_claims(self, replica: str, now: datetime) -> int:
        """Make the deliveries `replica` holds due at `now` (its claims are from a life that ended mid-send)."""
        result = await self._collection.update_many(
            {"status": "sending", "claimed_by": replica},
            {"$set": {"claim_expires_at": now}, "$inc": {VERSION: 1}},
        )
        return result.modified_count

    async def listing(self, status: str | None, referral_id: str | None) -> list[Delivery]:
        """Deliveries, newest first (at most LISTING_LIMIT)."""
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if referral_id:
            query["referral_id"] = referral_id
        cursor = self._collection.find(query).sort("queued_at", -1).limit(LISTING_LIMIT)
        return [delivery_from_document(self.deliveries.loaded_state(doc)) async for doc in cursor]


# The delivery document's versions: registered where the document is mapped, so the upcaster and the code that
# reads the new shape ship together (mash_runtime.upcasting).
DELIVERIES = "deliveries"


@STORED_UPCASTERS.register(DELIVERIES, from_version=1)
def upcast_delivery_v1_v2(state: StoredState) -> StoredState:
    """A version 1 delivery record as version 2: the outcome becomes a log, `error` becomes `last_error`.

    Version 1 kept only the outcome of a delivery: `status`, `attempts`, the last failure as `error` and
    the time it was queued and then sent (`sent_at`) or given up (`failed_at`). Version 2 keeps its history
    as `log`, one line per step (`at`, `status`, `reason`), which the delivery log page and the re-send
    read, and the last failure as `last_error`. The log rebuilt here holds the steps version 1 can vouch
    for. A state already in version 2's shape (a document written before versions were stamped) passes
    unchanged.
    """
    if "last_error" not in state and "error" in state:
        state["last_error"] = state.pop("error")
    if "log" not in state:
        log: list[dict[str, Any]] = []
        if isinstance(state.get("queued_at"), datetime | str):
            log.append({"at": state["queued_at"], "status": "queued", "reason": None})
        if state.get("status") == "sent" and state.get("sent_at") is not None:
            log.append({"at": state["sent_at"], "status": "sent", "reason": None})
        if state.get("status") == "failed" and state.get("failed_at") is not None:
            log.append({"at": state.pop("failed_at"), "status": "failed", "reason": state.get("last_error")})
        state["log"] = log
    return state


class RetainedDeliveries:
    """Notify's deliveries, as the retention sweeper sees them (mash_runtime.governance.RetainedRecords).

    A delivery holds the hand-off as sent but not the children's dates of birth the longest rules count from,
    so notify's own sweeper never dates one: its copies go when intake or decision erases the referral
    (`subject.erased`). The sweeper still runs here for the audit records past their date.
    """

    kind = RecordKind.CONTACT

    def __init__(self, store: NotifyStore) -> None:
        self._collection = store._collection

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Deliveries queued before `received_before`, in id order after `after`."""
        cursor = sweep_page(self._collection, "queued_at", received_before, after, limit,
                            {"referral_id": 1, "queued_at": 1})
        return [RetainedRecord(referral_id=doc["referral_id"], kind=RecordKind.CONTACT, outcome=UNKNOWN_OUTCOME,
                               received_at=doc["queued_at"], birth_dates_known=False, position=doc["_id"])
                async for doc in cursor]

    async def erase(self, referral_id: str) -> int:
        """Every delivery of the referral goes: messages as sent, their log and outbox."""
        return (await self._collection.delete_many({"referral_id": referral_id})).deleted_count

    async def anonymise(self, referral_id: str) -> int:
        """Notify keeps no figures: as erase."""
        return await self.erase(referral_id)
async def deliveries_for(store: NotifyStore, referral_ids: list[str]) -> list[Delivery]:
    """Every delivery about these referrals (a subject access request's part)."""
    if not referral_ids:
        return []
    cursor = store.deliveries.collection.find({"referral_id": {"$in": referral_ids}})
    return [delivery_from_document(store.deliveries.loaded_state(doc)) async for doc in cursor]
