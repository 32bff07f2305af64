"""Insight's own database: one collection per kind of fact, each fact one document keyed by its identity.

A fact is written once (insert on its key); the same fact arriving again, from a redelivery or a replay,
finds its key taken and changes nothing. No update is ever made, so there is nothing to race on and no
transaction is needed. Dropping the database and replaying the topics writes the same documents again.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mash_insight.domain.facts import FACT_MODELS, Fact, FactKind, kind_of
from mash_insight.domain.figures import Facts

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
