"""Enquiry records in MongoDB: the only module of the enquiry service that touches its collection.

An enquiry record is one document. Sensitive items are sealed item by item with the hub's sealing
keys (mash_runtime.sealing), keeping their id and label readable for audit; everything else is plain
JSON-compatible values, so the round trip does not depend on the client's time-zone settings. Only
`wake_at` is a datetime, for the due-time sweep's query. Writes go through the runtime's
AggregateStore (state, inbox and outbox in one version-checked write).

The use cases see aggregates only (EnquiryRecord, PermissionRequest): each `change_*` hands its `decide`
the aggregate and stores what it returns, so the mapping to documents, the sealing, what the desk notes
beside the record (the referral's trace, the portal's queued answers) and the trace that events continue
all stay here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mash_runtime.outbox import OutboxEntry
from mash_runtime.retention import UNKNOWN_OUTCOME, RetainedRecord
from mash_runtime.sealing import AtRestCipher, SealBroken
from mash_runtime.store import AggregateStore, Change, sweep_page
from mash_runtime.telemetry import current_traceparent
from mash_schemas import AgencyResponse, InformationItem
from mash_schemas.governance import RecordKind
from mash_schemas.subject_access import ReleasePermissionRequest
from pydantic import ValidationError

from mash_enquiry.domain.enquiry_record import EnquiryRecord
from mash_enquiry.domain.release_permission import AWAITING, PermissionRequest
from mash_enquiry.domain.sensitivity import is_sensitive

RECORD_VERSION = 1

# What a decision on an enquiry record returns: the record as it now is and the events to publish with it, or
# None to change nothing. It may run again after a concurrent write, on a fresh copy, so it must be pure.
EnquiryRecordDecision = Callable[[EnquiryRecord | None], tuple[EnquiryRecord, list[OutboxEntry]] | None]
# The same for a release permission request.
PermissionRequestDecision = Callable[
    [PermissionRequest | None], tuple[PermissionRequest, list[OutboxEntry]] | None]


@dataclass(frozen=True)
class KeptEnquiry:
    """An enquiry record as kept, with the agencies whose portal answer is queued but not yet taken by the desk."""

    record: EnquiryRecord
    portal_answered: tuple[str, ...]


class EnquiryStore:
    """Maps enquiry records to documents (sensitive items sealed) and finds the ones the desk needs."""

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
        self._cipher = cipher

    def _document(self, record: EnquiryRecord, current: dict[str, Any] | None) -> dict[str, Any]:
        """The document state for `record`, keeping what the desk notes beside it (trace, portal answers).

        The trace is the referral's, kept from the message that opened the enquiry.
        """
        return {
            **record_document(record, self._cipher),
            "trace_parent": current.get("trace_parent") if current is not None else current_traceparent(),
            "portal_answered": (current or {}).get("portal_answered", []),
        }

    def _record_of(self, state: dict[str, Any]) -> EnquiryRecord:
        """The record in a stored state (SealBroken if a sealed item does not open)."""
        return record_from_document(state, self._cipher)

    def _kept(self, state: dict[str, Any]) -> KeptEnquiry:
        return KeptEnquiry(self._record_of(state), tuple(state.get("portal_answered", [])))

    async def change_enquiry(self, enquiry_id: str, decide: EnquiryRecordDecision, *, event_id: str | None = None,
                             portal_answer: str | None = None) -> bool:
        """Run `decide` on the record and store its result with its events in one write; False if unchanged.

        `event_id` marks the change as another service's event, so a redelivered event changes nothing.
        `portal_answer` marks it as queuing that agency's answer from the portal: a record holding one from the
        agency already is left alone (False), so the portal sends one answer per request. The events continue
        the referral's trace, kept since the enquiry was opened: agencies' answers and the due-time sweep start
        traces of their own, yet one trace follows the referral across the services.
        """

        def on_state(current: dict[str, Any] | None) -> Change | None:
            if portal_answer is not None and current is not None and portal_answer in current.get(
                    "portal_answered", []):
                return None
            decided = decide(self._record_of(current) if current is not None else None)
            if decided is None:
                return None
            record, events = decided
            state = self._document(record, current)
            if portal_answer is not None:
                state["portal_answered"] = [*state["portal_answered"], portal_answer]
            trace = current.get("trace_parent") if current is not None else None
            return Change(state=state, events=[entry.in_trace(trace) for entry in events])

        return await self.aggregates.apply(enquiry_id, on_state, event_id=event_id)

    async def enquiry(self, enquiry_id: str) -> KeptEnquiry | None:
        """One enquiry as kept, or None."""
        state = await self.aggregates.get(enquiry_id)
        return self._kept(state) if state is not None else None

    async def due(self, now: datetime) -> list[str]:
        """The ids of the open enquiries that need attention at `now` (a reminder or completion)."""
        cursor = self.aggregates.collection.find({"state": "open", "wake_at": {"$lte": now}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    async def open_with_request_to(self, agency: str) -> list[KeptEnquiry]:
        """The open enquiries that sent `agency` a request."""
        cursor = self.aggregates.collection.find({"state": "open", f"requests.{agency}": {"$exists": True}})
        return [self._kept(doc) async for doc in cursor]

    async def every_record(self) -> list[EnquiryRecord]:
        """Every enquiry record, sealed items opened (a subject access request searches them all)."""
        return [self._record_of(self.aggregates.loaded_state(doc)) async for doc in self.aggregates.collection.find({})]

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
class PermissionStore:
    """Subject access permission requests to agencies (references only: agency, item id, referral)."""

    def __init__(self, aggregates: AggregateStore) -> None:
        self.aggregates = aggregates

    async def change_permission(self, permission_id: str, decide: PermissionRequestDecision, *,
                                event_id: str | None = None) -> bool:
        """Run `decide` on the permission request and store its result with its events; False if unchanged.

        `event_id` marks the change as decision's event, so a redelivered request is kept once.
        """

        def on_state(current: dict[str, Any] | None) -> Change | None:
            decided = decide(permission_from_document(current) if current is not None else None)
            if decided is None:
                return None
            request, events = decided
            return Change(state=permission_document(request), events=events)

        return await self.aggregates.apply(permission_id, on_state, event_id=event_id)

    async def get(self, permission_id: str) -> PermissionRequest | None:
        """One permission request, or None."""
        state = await self.aggregates.get(permission_id)
        return permission_from_document(state) if state is not None else None

    async def open_for(self, agency: str) -> list[PermissionRequest]:
        """The agency's unanswered permission requests, oldest first."""
        cursor = self.aggregates.collection.find({"agency": agency, "status": AWAITING})
        found = [self.aggregates.loaded_state(doc) async for doc in cursor]
        return [permission_from_document(state) for state in sorted(found, key=lambda s: str(s["requested_at"]))]


def permission_document(request: PermissionRequest) -> dict[str, Any]:
    """The permission request as stored: what was asked, flat (the portal's query filters on agency and status),
    and the answer once given."""
    state: dict[str, Any] = {**request.asked.model_dump(mode="python"), "due_on": request.asked.due_on.isoformat(),
                             "status": request.status}
    if not request.awaiting:
        state.update(answered_by=request.answered_by, answered_at=request.answered_at, note=request.note)
    return state


def permission_from_document(state: dict[str, Any]) -> PermissionRequest:
    """The PermissionRequest a stored document holds."""
    asked = ReleasePermissionRequest.model_validate(
        {name: state[name] for name in ReleasePermissionRequest.model_fields if name in state})
    return PermissionRequest(asked=asked, status=state["status"], answered_by=state.get("answered_by"),
                             answered_at=state.get("answered_at"), note=state.get("note"))


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
