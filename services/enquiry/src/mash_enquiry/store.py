"""Enquiry records in MongoDB: the only module of the enquiry service that touches its collection.

An enquiry record is one document. Sensitive items are sealed item by item with the hub's sealing
keys (mash_runtime.sealing), keeping their id and label readable for audit; everything else is plain
JSON-compatible values, so the round trip does not depend on the client's time-zone settings. Only
`wake_at` is a datetime, for the due-time sweep's query. Writes go through the runtime's
AggregateStore (state, inbox and outbox in one version-checked write).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mash_runtime.retention import UNKNOWN_OUTCOME, RetainedRecord
from mash_runtime.sealing import AtRestCipher, SealBroken
from mash_runtime.store import AggregateStore, Decide, sweep_page
from mash_schemas import AgencyResponse, InformationItem
from mash_schemas.governance import RecordKind
from pydantic import ValidationError

from mash_enquiry.domain.enquiry_record import EnquiryRecord
from mash_enquiry.domain.sensitivity import is_sensitive

RECORD_VERSION = 1


class EnquiryStore:
    """Maps enquiry records to documents (sensitive items sealed) and finds the ones the desk needs."""

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
        self._cipher = cipher

    def state_of(self, record: EnquiryRecord, current: dict[str, Any] | None = None,
                 trace_parent: str | None = None) -> dict[str, Any]:
        """The document state for `record`, keeping what the desk notes beside it (trace, portal answers)."""
        return {
            **record_document(record, self._cipher),
            "trace_parent": (current or {}).get("trace_parent", trace_parent),
            "portal_answered": (current or {}).get("portal_answered", []),
        }

    def record_of(self, state: dict[str, Any]) -> EnquiryRecord:
        """The record in a stored state (SealBroken if a sealed item does not open)."""
        return record_from_document(state, self._cipher)

    async def apply(self, enquiry_id: str, decide: Decide, event_id: str | None = None) -> bool:
        """One version-checked write of the record (`event_id` marks another service's event as applied)."""
        return await self.aggregates.apply(enquiry_id, decide, event_id=event_id)

    async def get(self, enquiry_id: str) -> dict[str, Any] | None:
        """One record's stored state, or None."""
        return await self.aggregates.get(enquiry_id)

    async def due(self, now: datetime) -> list[str]:
        """The ids of the open enquiries that need attention at `now` (a reminder or completion)."""
        cursor = self.aggregates.collection.find({"state": "open", "wake_at": {"$lte": now}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    async def open_with_request_to(self, agency: str) -> list[dict[str, Any]]:
        """The stored documents of the open enquiries that sent `agency` a request."""
        cursor = self.aggregates.collection.find({"state": "open", f"requests.{agency}": {"$exists": True}})
        return [doc async for doc in cursor]

    async def ensure_indexes(self) -> None:
        """The sweep filters by state and wake time."""
        await self.aggregates.collection.create_index([("state", 1), ("wake_at", 1)])


def record_document(record: EnquiryRecord, cipher: AtRestCipher) -> dict[str, Any]:
    """`record` as one document, sensitive items sealed with `cipher`.

    Keys are agency ids, which never contain '.' or start with '$'; no array directly holds an array.
    """
    document = record.model_dump(mode="json", exclude={"responses", "late_responses"})
    document["responses"] = {agency: _response_document(response, cipher)
                             for agency, response in record.responses.items()}
    document["late_responses"] = {agency: _response_document(response, cipher)
                                  for agency, response in record.late_responses.items()}
    document["record_version"] = RECORD_VERSION
    document["enquiry_id"] = record.enquiry_id
    document["referral_id"] = record.enquiry.referral_id
    document["wake_at"] = record.wake_at()
    return document


def record_from_document(document: dict[str, Any], cipher: AtRestCipher) -> EnquiryRecord:
    """The record in a document written by `record_document`; keys the store adds are ignored.

    Raises SealBroken if a sealed item cannot be opened with `cipher`'s keys, or was moved under another id.
    """
    body = {key: value for key, value in document.items() if key in EnquiryRecord.model_fields}
    for section in ("responses", "late_responses"):
        body[section] = {agency: _response_from_document(response, cipher)
                         for agency, response in document.get(section, {}).items()}
    return EnquiryRecord.model_validate(body)


def seal_item(item: InformationItem, cipher: AtRestCipher) -> str:
    """A sensitive item sealed as one token."""
    return cipher.seal(item.model_dump_json())


def open_item(token: str, cipher: AtRestCipher) -> InformationItem:
    """The item inside `token`; SealBroken if no configured key opens it or it does not hold an item."""
    plain = cipher.open(token)
    try:
        return InformationItem.model_validate_json(plain)
    except ValidationError:
        # The validation error would quote the content; it must not reach a log.
        raise SealBroken("a sealed item opened but does not hold a valid information item") from None


def _response_document(response: AgencyResponse, cipher: AtRestCipher) -> dict[str, Any]:
    document = response.model_dump(mode="json", exclude={"items"})
    document["items"] = [_item_document(item, cipher) for item in response.items]
    return document


def _item_document(item: InformationItem, cipher: AtRestCipher) -> dict[str, Any]:
    if is_sensitive(item):
        # The id and label stay readable for audit; the content is only in the sealed token.
        return {"item_id": item.item_id, "sensitivity": item.sensitivity.value, "sealed": seal_item(item, cipher)}
    return item.model_dump(mode="json")


def _response_from_document(document: dict[str, Any], cipher: AtRestCipher) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for entry in document.get("items", []):
        if "sealed" in entry:
            item = open_item(entry["sealed"], cipher)
            if item.item_id != entry.get("item_id"):
                raise SealBroken("a sealed item does not match the id it is stored under")
            items.append(item.model_dump(mode="json"))
        else:
            items.append(entry)
    return {**document, "items": items}


class RetainedEnquiries:
    """Enquiry records, as the retention sweeper sees them (mash_runtime.governance.RetainedRecords).

    Enquiry never hears the decision, so its records follow the schedule's 'unknown' outcome (as long as the
    longest contact rule): in practice they go earlier, when intake or decision erases the referral.
    """

    kind = RecordKind.CONTACT

    def __init__(self, store: EnquiryStore) -> None:
        self._collection = store.aggregates.collection

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Enquiries in id order after `after` (their times are stored as text, so the date is checked here)."""
        cursor = sweep_page(self._collection, None, received_before, after, limit, {"enquiry": 1, "opened_at": 1})
        found = []
        async for doc in cursor:
            opened = datetime.fromisoformat(str(doc["opened_at"]).replace("Z", "+00:00"))
            subjects = doc["enquiry"].get("subjects", [])
            births = tuple(date.fromisoformat(str(s.get("date_of_birth") or s.get("expected_date"))[:10])
                           for s in subjects
                           if s.get("kind") != "adult_at_risk" and (s.get("date_of_birth") or s.get("expected_date")))
            found.append(RetainedRecord(referral_id=doc["enquiry"]["referral_id"], kind=RecordKind.CONTACT,
                                        outcome=UNKNOWN_OUTCOME, received_at=opened, birth_dates=births,
                                        position=doc["_id"]))
        return [record for record in found if record.received_at < received_before]

    async def erase(self, referral_id: str) -> int:
        """Every enquiry of the referral goes whole: requests, answers (sealed items too), reminders, outbox."""
        return (await self._collection.delete_many({"referral_id": referral_id})).deleted_count

    async def anonymise(self, referral_id: str) -> int:
        """Enquiry keeps no figures: as erase."""
        return await self.erase(referral_id)
async def every_record(store: EnquiryStore) -> list[EnquiryRecord]:
    """Every enquiry record, sealed items opened (a subject access request searches them all)."""
    return [store.record_of(store.aggregates.loaded_state(doc)) async for doc in store.aggregates.collection.find({})]


class PermissionStore:
    """Subject access permission requests to agencies (references only: agency, item id, referral)."""

    def __init__(self, aggregates: AggregateStore) -> None:
        self.aggregates = aggregates

    async def apply(self, permission_id: str, decide: Decide, event_id: str | None = None) -> bool:
        """One version-checked write of a permission request."""
        return await self.aggregates.apply(permission_id, decide, event_id=event_id)

    async def get(self, permission_id: str) -> dict[str, Any] | None:
        """One permission request's state, or None."""
        return await self.aggregates.get(permission_id)

    async def open_for(self, agency: str) -> list[dict[str, Any]]:
        """The agency's unanswered permission requests, oldest first."""
        cursor = self.aggregates.collection.find({"agency": agency, "status": "awaiting_agency"})
        found = [self.aggregates.loaded_state(doc) async for doc in cursor]
        return sorted(found, key=lambda state: str(state["requested_at"]))


class RetainedPermissionRequests:
    """The agency portal's permission requests, kept with the subject access request they belong to.

    Each request is the subject (its id is what the erasure event carries): decision's sweeper normally erases
    the request first and its event removes these; enquiry also dates its own, from when the agency was asked
    (soon after the request's receipt, so never before decision's). A hold on the item's referral keeps them.
    """

    kind = RecordKind.SUBJECT_ACCESS_REQUEST

    def __init__(self, store: PermissionStore) -> None:
        self._collection = store.aggregates.collection

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """One record per subject access request with a permission request asked before `received_before`.

        Dated by its earliest permission request and held with every referral its permission requests name,
        all of them, not only those on this page (erasing takes them all).
        """
        cursor = sweep_page(self._collection, "requested_at", received_before, after, limit, {"request_id": 1})
        # Permission ids begin with their request's id, so the sweeper resumes after the last one seen.
        last_seen = {doc["request_id"]: doc["_id"] async for doc in cursor}
        asked: dict[str, list[datetime]] = {}
        named: dict[str, set[str]] = {}
        every = self._collection.find({"request_id": {"$in": list(last_seen)}},
                                      {"request_id": 1, "requested_at": 1, "referral_id": 1})
        async for doc in every:
            asked.setdefault(doc["request_id"], []).append(doc["requested_at"])
            named.setdefault(doc["request_id"], set()).update([doc["referral_id"]] if doc.get("referral_id") else [])
        return [RetainedRecord(referral_id=request_id, kind=RecordKind.SUBJECT_ACCESS_REQUEST, outcome=None,
                               received_at=min(asked[request_id]), held_with=tuple(sorted(named[request_id])),
                               position=position)
                for request_id, position in last_seen.items() if request_id in asked]

    async def erase(self, referral_id: str) -> int:
        """Every permission request of the subject access request goes (called with every subject's id)."""
        return (await self._collection.delete_many({"request_id": referral_id})).deleted_count

    async def anonymise(self, referral_id: str) -> int:
        """Permission requests keep no figures: as erase."""
        return await self.erase(referral_id)
