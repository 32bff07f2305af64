"""Retention in every service, as one scenario class each service's test runs (in memory or on the stack).

A subclass says how to plant a subject in its service (`plant`, through the events or HTTP the service
really consumes) and how long until the schedule makes it due (`due_after`); the scenarios then check that
the sweeper erases it and says so once, that a legal hold stops it, that erasure events are idempotent under
redelivery, and that nothing about the subject is left in any collection of the service's database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from mash_runtime.governance import Governance
from mash_schemas.envelope import derived_event_id
from mash_schemas.governance import (
    ErasureAction,
    HoldReason,
    LegalHold,
    LegalHoldChanged,
    RecordKind,
    SubjectErased,
    SubjectErasure,
)
from mash_schemas.topics import LEGAL_HOLD, SUBJECT_ERASED
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.insight_events import MARKER
from tests.support.service_harness import RunningService

# Where a service keeps what is left by design: the erasure record (referral id, rule, date), the holds
# and the audit log (who did what to which referral id): none holds anything about the person.
GOVERNANCE_COLLECTIONS = {"erasures", "legal_holds", "audit"}


async def what_remains(database: AsyncDatabase[dict[str, Any]], referral_id: str) -> list[str]:
    """Every collection's document that names the referral (outside the governance records) or the marker."""
    found = []
    for name in await database.list_collection_names():
        async for doc in database[name].find({}):
            text = repr(doc)
            if MARKER in text or (referral_id in text and name not in GOVERNANCE_COLLECTIONS):
                found.append(f"{name}/{doc.get('_id')}")
    return found


def erased_elsewhere(referral_id: str, rule: str = "contact/no_further_action", by: str = "another-service",
                     at: datetime | None = None) -> SubjectErased:
    """The erasure event another service's sweeper publishes."""
    at = at or datetime(2030, 1, 1, tzinfo=UTC)
    erasure = SubjectErasure(referral_id=referral_id, record_kind=RecordKind.CONTACT, action=ErasureAction.ERASE,
                             rule=rule, erased_at=at, erased_by=by)
    return SubjectErased.build(erasure, correlation_id=referral_id, producer=by, occurred_at=at,
                               event_id=derived_event_id(referral_id, f"subject.erased/{by}"))


def hold(referral_id: str, state: str, at: datetime) -> LegalHoldChanged:
    """A MASH manager's hold, as decision publishes it."""
    payload = LegalHold(referral_id=referral_id, state=state,  # type: ignore[arg-type]
                        reason=HoldReason.COMPLAINT, note="Complaint from the family under investigation",
                        by="Mo Patel (MASH manager)", at=at)
    return LegalHoldChanged.build(payload, correlation_id=referral_id, producer="decision", occurred_at=at)


class RetentionScenarios:
    """What every service does with records past their date. Subclasses plant the subject."""

    due_after: ClassVar[timedelta] = timedelta(days=365 * 30)
    sweeps_itself: ClassVar[bool] = True  # False where the service cannot date its copy (notify)

    async def plant(self, hub: RunningService[Any], referral_id: str) -> str:
        """Put a subject carrying MARKER into the service; returns the referral id the service knows it by."""
        raise NotImplementedError

    @staticmethod
    def governance(hub: RunningService[Any]) -> Governance:
        governance: Governance = hub.service.governance
        return governance

    async def audit_actions(self, hub: RunningService[Any], referral_id: str) -> list[str]:
        return [r["action"] for r in await hub.service.runtime.audit.for_referral(referral_id)]

    async def test_past_its_date_the_sweeper_erases_it_and_says_so_once(self, hub: RunningService[Any]) -> None:
        referral_id = await self.plant(hub, f"MASH-{uuid.uuid4().hex[:8]}")
        assert await what_remains(hub.database, referral_id)

        hub.clock.advance(timedelta(days=1))
        await self.governance(hub).sweep()
        assert await what_remains(hub.database, referral_id), "erased before its date"

        hub.clock.advance(self.due_after)
        await self.governance(hub).sweep()
        if not self.sweeps_itself:
            assert await what_remains(hub.database, referral_id), "a copy it cannot date is left for the event"
            await hub.publish(erased_elsewhere(referral_id), SUBJECT_ERASED)
        await hub.flush()
        await self.governance(hub).sweep()  # a second run finds nothing more to do

        assert await what_remains(hub.database, referral_id) == []
        if self.sweeps_itself:
            said = [e for e in hub.published(SUBJECT_ERASED) if e["payload"]["referral_id"] == referral_id
                    and e["producer"] == hub.settings.service_name]
            assert len(said) == 1 and said[0]["payload"]["erased_by"] == hub.settings.service_name
        actions = await self.audit_actions(hub, referral_id)
        assert actions.count("erased") + actions.count("anonymised") == 1

    async def test_under_legal_hold_nothing_is_erased_until_it_is_lifted(self, hub: RunningService[Any]) -> None:
        referral_id = await self.plant(hub, f"MASH-{uuid.uuid4().hex[:8]}")
        await hub.publish(hold(referral_id, "placed", hub.clock()), LEGAL_HOLD)

        hub.clock.advance(self.due_after)
        await self.governance(hub).sweep()
        await hub.publish(erased_elsewhere(referral_id), SUBJECT_ERASED)
        await hub.flush()

        assert await what_remains(hub.database, referral_id)
        assert not [e for e in hub.published(SUBJECT_ERASED) if e["payload"]["referral_id"] == referral_id
                    and e["producer"] == hub.settings.service_name]
        actions = await self.audit_actions(hub, referral_id)
        assert "legal_hold_placed" in actions and "erasure_withheld" in actions and "erased" not in actions

        await hub.publish(hold(referral_id, "lifted", hub.clock()), LEGAL_HOLD)
        await self.governance(hub).sweep()
        if not self.sweeps_itself:
            await hub.publish(erased_elsewhere(referral_id, by="decision"), SUBJECT_ERASED)
        await hub.flush()
        assert await what_remains(hub.database, referral_id) == []

    async def test_an_erasure_event_redelivered_erases_and_audits_once(self, hub: RunningService[Any]) -> None:
        referral_id = await self.plant(hub, f"MASH-{uuid.uuid4().hex[:8]}")
        event = erased_elsewhere(referral_id)

        await hub.publish(event, SUBJECT_ERASED)
        await hub.publish(event, SUBJECT_ERASED)  # redelivered
        await hub.flush()

        assert await what_remains(hub.database, referral_id) == []
        actions = await self.audit_actions(hub, referral_id)
        assert actions.count("erased") + actions.count("anonymised") == 1
        erasure = await hub.database["erasures"].find_one({"_id": referral_id})
        assert erasure is not None and MARKER not in repr(erasure)
        assert erasure["_inbox"] == [str(event.event_id)]
