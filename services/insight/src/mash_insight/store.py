"""Insight's own database: one collection per kind of fact, each fact one document keyed by its identity.

A fact is written once (insert on its key); the same fact arriving again, from a redelivery or a replay,
finds its key taken and changes nothing. No update is ever made, so there is nothing to race on and no
transaction is needed. Dropping the database and replaying the topics writes the same documents again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Protocol

from mash_runtime.retention import RetainedRecord
from mash_runtime.store import sweep_page
from mash_schemas.governance import RecordKind
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mash_insight.domain.facts import FACT_MODELS, Fact, FactKind, kind_of
from mash_insight.domain.figures import Facts
from mash_insight.domain.quality_assurance import QualityAuditFact

log = logging.getLogger(__name__)
EVENT_ID = "_event_id"


class FactStore(Protocol):
    """Where facts are kept: the handlers write, the reports read."""

    async def record(self, fact: Fact, event_id: str) -> bool:
        """Keep `fact` (from event `event_id`) unless a fact with its key is kept already; True if new."""
        ...

    async def facts(self) -> Facts:
        """Every fact kept."""
        ...


class InsightStore:
    """Facts in MongoDB."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def record(self, fact: Fact, event_id: str) -> bool:
        """Insert the fact under its key; a key already taken means it was applied before."""
        kind = kind_of(fact)
        document = {"_id": fact.key(), **fact.model_dump(mode="python"), EVENT_ID: event_id}
        try:
            await self.db[kind.value].insert_one(document)
        except DuplicateKeyError:
            log.debug("fact already kept", extra={"fields": {"kind": kind.value, "key": fact.key()}})
            return False
        return True

    async def facts(self) -> Facts:
        """Read every fact back (insight's volumes are the hub's: thousands a month, read in one pass)."""
        found: list[Fact] = []
        for kind, model in FACT_MODELS.items():
            async for doc in self.db[kind.value].find({}):
                found.append(model.model_validate({k: v for k, v in doc.items() if k not in ("_id", EVENT_ID)}))
        return Facts.of(found)

    async def counts(self) -> dict[str, int]:
        """How many facts of each kind are kept."""
        return {kind.value: await self.db[kind.value].count_documents({}) for kind in FactKind}

    async def facts_about(self, referral_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
        """Every fact about these referrals, with its kind (a subject access request's part)."""
        if not referral_ids:
            return []
        found: list[tuple[str, dict[str, Any]]] = []
        for kind in FACT_MODELS:
            async for doc in self.db[kind.value].find({"referral_id": {"$in": referral_ids}}):
                found.append((kind.value, {k: v for k, v in doc.items() if k != EVENT_ID}))
        return found


_BY_REFERRAL = [kind for kind in FactKind if kind not in (FactKind.CONSULTATION, FactKind.POLICE_NOTICE)]


class RetainedFigures:
    """Insight's facts about contacts, as the retention sweeper sees them (mash_runtime.governance).

    Insight holds no dates of birth, so a rule counting to a child's birthday never falls due here (the
    owning service's erasure event arrives instead); the shorter rules (no further action) it dates itself.
    Anonymising keeps each fact, so the figures still add up, under a random reference instead of the
    referral's, the enquiry's and the council's person references.
    """

    kind = RecordKind.CONTACT

    def __init__(self, store: InsightStore) -> None:
        self._db = store.db

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Contact facts received before `received_before`, with their decision when one is kept."""
        cursor = sweep_page(self._db[FactKind.CONTACT.value], "received_at", received_before, after, limit)
        found = []
        async for doc in cursor:
            decided = await self._db[FactKind.DECISION.value].find_one({"_id": doc["referral_id"]})
            found.append(RetainedRecord(
                referral_id=doc["referral_id"], kind=RecordKind.CONTACT,
                outcome=decided["outcome"] if decided else None, received_at=doc["received_at"],
                decided_at=decided["decided_at"] if decided else None, birth_dates_known=False,
                position=doc["_id"]))
        return found

    async def erase(self, referral_id: str) -> int:
        """Every fact about the referral goes (a consultation's by its own id)."""
        removed = 0
        for kind in _BY_REFERRAL:
            removed += (await self._db[kind.value].delete_many({"referral_id": referral_id})).deleted_count
        consultations = self._db[FactKind.CONSULTATION.value]
        removed += (await consultations.delete_many({"consultation_id": referral_id})).deleted_count
        return removed

    async def anonymise(self, referral_id: str) -> int:
        """Each fact about the referral kept under one random reference, without person references."""
        stand_in = f"ANON-{uuid.uuid4().hex[:12]}"
        changed = 0
        for kind in FactKind:
            field = "consultation_id" if kind is FactKind.CONSULTATION else "referral_id"
            if kind is FactKind.POLICE_NOTICE:
                continue
            model = FACT_MODELS[kind]
            async for doc in self._db[kind.value].find({field: referral_id}):
                state = {k: v for k, v in doc.items() if k not in ("_id", EVENT_ID)}
                # Ids derived from the referral's (the decision's, an enquiry's) would lead back to it.
                state = {k: v.replace(referral_id, stand_in) if isinstance(v, str) else v for k, v in state.items()}
                state[field] = stand_in
                if kind is FactKind.CONSULTATION:
                    state["referral_id"] = None
                if "enquiry_id" in state and stand_in not in state["enquiry_id"]:
                    state["enquiry_id"] = f"{stand_in}/{uuid.uuid4().hex[:8]}"
                if "person_refs" in state:
                    state["person_refs"] = []
                fact = model.model_validate(state)
                await self._db[kind.value].delete_one({"_id": doc["_id"]})
                await self._db[kind.value].insert_one(
                    {"_id": fact.key(), **fact.model_dump(mode="python"), EVENT_ID: "anonymised"})
                changed += 1
        return changed


class RetainedConsultationFigures:
    """Insight's consultation facts, dated by the consultation rule."""

    kind = RecordKind.CONSULTATION

    def __init__(self, store: InsightStore, figures: RetainedFigures) -> None:
        self._db = store.db
        self._figures = figures

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Consultation facts recorded before `received_before`."""
        cursor = sweep_page(self._db[FactKind.CONSULTATION.value], "recorded_at", received_before, after, limit)
        return [RetainedRecord(referral_id=doc["consultation_id"], kind=RecordKind.CONSULTATION, outcome=None,
                               received_at=doc["recorded_at"]) async for doc in cursor
                if not str(doc["consultation_id"]).startswith("ANON-")]

    async def erase(self, referral_id: str) -> int:
        """Nothing more than RetainedFigures removes (it covers consultations too)."""
        return 0

    async def anonymise(self, referral_id: str) -> int:
        """As erase: RetainedFigures does it."""
        return 0


class QualityAuditFacts:
    """The facts of practice leads' audits (issue 23), in a collection of their own: kept once, never updated.

    They name no referral (the audit's id is all), so retention and subject access have nothing to find here.
    """

    COLLECTION = "quality_audits"

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db[self.COLLECTION]

    async def record(self, fact: QualityAuditFact, event_id: str) -> bool:
        """Insert the fact under its key; a key already taken means it was applied before."""
        try:
            await self._collection.insert_one({"_id": fact.key(), **fact.model_dump(mode="python"), EVENT_ID: event_id})
        except DuplicateKeyError:
            return False
        return True

    async def all(self) -> list[QualityAuditFact]:
        """Every audit's fact."""
        return [QualityAuditFact.model_validate({k: v for k, v in doc.items() if k not in ("_id", EVENT_ID)})
                async for doc in self._collection.find({})]
