"""Intake's MongoDB adapter: contacts and consultations (one document each, with outbox) and the register."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mash_runtime.service import ServiceRuntime
from mash_runtime.store import AggregateStore
from pymongo import ReplaceOne

from mash_intake.domain.linking import EarlierContact
from mash_intake.domain.register import KnownPerson


class IntakeStore:
    """Contacts and the register of people the hub already knows."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.contacts: AggregateStore = runtime.store("contacts")
        self.consultations: AggregateStore = runtime.store("consultations")
        self._register = runtime.db["known_people"]
        self._meta = runtime.db["register_meta"]

    async def ensure_indexes(self) -> None:
        """Linking looks up earlier contacts by matched person and time."""
        await self.contacts.collection.create_index("matched_person_refs")
        await self.contacts.collection.create_index("received_at")

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
