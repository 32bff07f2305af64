"""Intake's MongoDB adapter, the only module that touches its collections: contacts (the Contact aggregate, one
document each with its outbox), consultations, and the register of known people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from mash_runtime.outbox import OutboxEntry
from mash_runtime.retention import RetainedRecord
from mash_runtime.service import ServiceRuntime
from mash_runtime.store import AggregateStore, Change, sweep_page
from mash_schemas.consultation import Consultation
from mash_schemas.governance import RecordKind
from pymongo import ReplaceOne

from mash_intake.domain.contact import Contact, HistoryLine
from mash_intake.domain.linking import EarlierContact
from mash_intake.domain.register import KnownPerson

# What a decision on a contact returns: the contact as it now is and the events to publish with it, or None
# to change nothing.
ContactDecision = Callable[[Contact | None], tuple[Contact, list[OutboxEntry]] | None]
_OPTIONAL = ("fingerprint", "suggested_rating", "referral", "triage", "notification", "outcome")


def contact_document(contact: Contact) -> dict[str, Any]:
    """The contact as stored (fields left unset are left out, as the documents have always been written)."""
    state: dict[str, Any] = {
        "referral_id": contact.referral_id,
        "status": contact.status,
        "source": contact.source,
        "received_at": contact.received_at,
        "matched_person_refs": list(contact.matched_person_refs),
        "amendments": list(contact.amendments),
        "history": [{"at": line.at, "what": line.what} for line in contact.history],
    }
    state.update({name: getattr(contact, name) for name in _OPTIONAL if getattr(contact, name) is not None})
    if contact.followed:
        state["followed"] = list(contact.followed)
    return state


def contact_from_document(state: dict[str, Any]) -> Contact:
    """The Contact a stored document holds."""
    return Contact(
        referral_id=state["referral_id"],
        status=state["status"],
        source=state["source"],
        received_at=state["received_at"],
        matched_person_refs=list(state.get("matched_person_refs", [])),
        history=[HistoryLine(line["at"], line["what"]) for line in state.get("history", [])],
        amendments=list(state.get("amendments", [])),
        followed=list(state.get("followed", [])),
        **{name: state.get(name) for name in _OPTIONAL},
    )


class IntakeStore:
    """Contacts, consultations and the register of people the hub already knows."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.contacts: AggregateStore = runtime.store("contacts")
        self.consultations: AggregateStore = runtime.store("consultations")
        self._register = runtime.db["known_people"]
        self._meta = runtime.db["register_meta"]

    async def ensure_indexes(self) -> None:
        """Linking looks up earlier contacts by matched person and time."""
        await self.contacts.collection.create_index("matched_person_refs")
        await self.contacts.collection.create_index("received_at")

    async def contact(self, referral_id: str) -> Contact | None:
        """The contact `referral_id`, or None."""
        state = await self.contacts.get(referral_id)
        return contact_from_document(state) if state is not None else None

    async def change_contact(self, referral_id: str, decide: ContactDecision, *, event_id: str | None = None,
                             likely_new: bool = False) -> bool:
        """Run `decide` on the contact and store its result with its events in one write; False if unchanged.

        `event_id` marks the change as that event's, so a redelivered event changes nothing. `decide` may run
        again after a concurrent write, on a fresh copy of the contact. `likely_new`: see AggregateStore.apply.
        """

        def on_state(state: dict[str, Any] | None) -> Change | None:
            decided = decide(contact_from_document(state) if state is not None else None)
            if decided is None:
                return None
            contact, events = decided
            return Change(state=contact_document(contact), events=events)

        return await self.contacts.apply(referral_id, on_state, event_id=event_id, likely_new=likely_new)

    async def record_consultation(self, consultation: Consultation, *, fingerprint: str, event: OutboxEntry) -> bool:
        """Keep a consultation once, with its event; False when its id is kept already.

        `fingerprint` identifies the submission, so a retry under the same Idempotency-Key can be told from a
        different consultation (see consultation_fingerprint).
        """
        state = {"consultation_id": consultation.consultation_id, "recorded_at": consultation.recorded_at,
                 "fingerprint": fingerprint, "consultation": consultation.model_dump(mode="json")}
        return await self.consultations.apply(
            consultation.consultation_id,
            lambda current: None if current is not None else Change(state=state, events=[event]),
        )

    async def consultation_fingerprint(self, consultation_id: str) -> str | None:
        """The fingerprint of the consultation kept under `consultation_id` (a retry's check), or None."""
        state = await self.consultations.get(consultation_id)
        return state.get("fingerprint") if state is not None else None

    async def earlier_contacts(self, person_refs: list[str], since: datetime) -> list[EarlierContact]:
        """Contacts since `since` that matched any of `person_refs`."""
        if not person_refs:
            return []
        cursor = self.contacts.collection.find(
            {"matched_person_refs": {"$in": person_refs}, "received_at": {"$gte": since}},
            {"referral_id": 1, "received_at": 1, "matched_person_refs": 1},
        )
        return [
            EarlierContact(
                referral_id=doc["referral_id"],
                received_at=doc["received_at"],
                person_refs=frozenset(doc.get("matched_person_refs", [])),
            )
            async for doc in cursor
        ]

    async def import_register(self, people: list[KnownPerson], imported_at: datetime) -> int:
        """Upsert every person by their case-system id; returns how many were written."""
        if not people:
            return 0
        await self._register.bulk_write(
            [ReplaceOne({"_id": p.person_ref}, p.model_dump(mode="json"), upsert=True) for p in people],
            ordered=False,
        )
        await self._meta.replace_one(
            {"_id": "register"}, {"imported_at": imported_at, "count": len(people)}, upsert=True
        )
        return len(people)

    async def register_version(self) -> Any:
        """Changes whenever the register is re-imported, so services reload their index."""
        meta = await self._meta.find_one({"_id": "register"})
        return meta.get("imported_at") if meta else None

    async def known_people(self) -> list[KnownPerson]:
        """The whole register (thousands of rows: held in memory for matching)."""
        return [
            KnownPerson.model_validate({k: v for k, v in doc.items() if k != "_id"})
            async for doc in self._register.find({})
        ]

    async def every_contact(self) -> list[Contact]:
        """Every contact (a subject access request searches them all, by name, date of birth or reference)."""
        cursor = self.contacts.collection.find({})
        return [contact_from_document(self.contacts.loaded_state(doc)) async for doc in cursor]


def _birth_dates(subjects: list[dict[str, Any]]) -> tuple[date, ...]:
    """Children's dates of birth (expected dates for unborn children), for a 25th-birthday rule."""
    found = []
    for subject in subjects:
        text = subject.get("date_of_birth") or subject.get("expected_date")
        if text and subject.get("kind") != "adult_at_risk":
            found.append(date.fromisoformat(str(text)[:10]))
    return tuple(found)


class RetainedContacts:
    """Intake's contacts, as the retention sweeper sees them (mash_runtime.governance.RetainedRecords)."""

    kind = RecordKind.CONTACT

    def __init__(self, store: IntakeStore) -> None:
        self._collection = store.contacts.collection

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Contacts received before `received_before`, in referral order after `after`."""
        cursor = sweep_page(self._collection, "received_at", received_before, after, limit)
        return [self._record(doc) async for doc in cursor]

    @staticmethod
    def _record(doc: dict[str, Any]) -> RetainedRecord:
        outcome = doc.get("outcome") or ("kept_as_information" if doc.get("status") == "kept_as_information" else None)
        history = [line["at"] for line in doc.get("history", [])]
        subjects = (doc.get("referral") or doc.get("notification") or {}).get("subjects", [])
        return RetainedRecord(referral_id=doc["_id"], kind=RecordKind.CONTACT, outcome=outcome,
                              received_at=doc["received_at"], decided_at=max(history) if outcome and history else None,
                              birth_dates=_birth_dates(subjects))

    async def erase(self, referral_id: str) -> int:
        """The contact goes whole: referral, police notification, history, amendments and outbox."""
        return (await self._collection.delete_many({"_id": referral_id})).deleted_count

    async def anonymise(self, referral_id: str) -> int:
        """Intake keeps no figures: anonymising a contact is erasing it."""
        return await self.erase(referral_id)


class RetainedConsultations:
    """Intake's consultations, as the retention sweeper sees them."""

    kind = RecordKind.CONSULTATION

    def __init__(self, store: IntakeStore) -> None:
        self._collection = store.consultations.collection

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Consultations recorded before `received_before`, in id order after `after`."""
        cursor = sweep_page(self._collection, "recorded_at", received_before, after, limit, {"recorded_at": 1})
        return [RetainedRecord(referral_id=doc["_id"], kind=RecordKind.CONSULTATION, outcome=None,
                               received_at=doc["recorded_at"]) async for doc in cursor]

    async def erase(self, referral_id: str) -> int:
        """The consultation goes whole (it is keyed by its own id; a contact it led to has its own rule)."""
        return (await self._collection.delete_many({"_id": referral_id})).deleted_count

    async def anonymise(self, referral_id: str) -> int:
        """As erase."""
        return await self.erase(referral_id)
