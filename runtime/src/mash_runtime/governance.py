"""Retention in every service: the sweeper that erases what has passed its date, erasure heard from other
services, and legal holds that stop both.

Each service hands in what it keeps about subjects (`RetainedRecords`, implemented in its store.py) and gets
the same behaviour as every other service:

- **the sweeper** (`sweep`, run by `runtime.every` and called directly by tests with a FixedClock) asks
  the retention schedule (mash_runtime.retention) whether each record is due and, unless it is under a legal
  hold, erases it (or anonymises it, where the schedule says so), at most `retention_batch` subjects a run;
- **one `subject.erased` event per subject**, keyed by the referral, written atomically with an erasure
  record (`erasures`, the store's outbox), so that every other service drops its copies. The event id derives
  from the referral and the service, and each service's erasure record keeps the ids it applied: a
  redelivered event erases nothing twice and audits nothing twice;
- **legal holds** (`legal_holds`): the latest hold of each referral, kept locally from `legal.hold` events
  (decision places and lifts them), so no service reads another's database to know of one;
- **the audit log**: every erasure, every hold applied, and every erasure withheld because of a hold.

An erasure record keeps the referral id, the rule and the date: nothing about the person. It is what tells
a redelivered event from a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from mash_schemas.envelope import derived_event_id
from mash_schemas.governance import (
    ErasureAction,
    LegalHold,
    LegalHoldChanged,
    RecordKind,
    SubjectErased,
    SubjectErasure,
)
from mash_schemas.topics import LEGAL_HOLD, SUBJECT_ERASED

from mash_runtime.auth import Principal
from mash_runtime.consuming import MessageOrigin
from mash_runtime.outbox import OutboxEntry
from mash_runtime.retention import RetainedRecord, RetentionRule, RetentionSchedule, load_retention_schedule
from mash_runtime.service import ServiceRuntime
from mash_runtime.store import Change

log = logging.getLogger(__name__)
SWEEPER = "retention-sweeper"
PAGE = 200


class RetainedRecords(Protocol):
    """What one service keeps about subjects, of one kind (its store.py implements it)."""

    kind: RecordKind

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Records received before `received_before`, in `_id` order after `after`, at most `limit`."""
        ...

    async def erase(self, referral_id: str) -> int:
        """Remove everything about `referral_id`; how many documents went (0 when none was left)."""
        ...

    async def anonymise(self, referral_id: str) -> int:
        """Keep the counts but nothing that identifies anyone (most services erase instead)."""
        ...


class Governance:
    """One service's sweeper, erasure consumer and local copy of the legal holds."""

    def __init__(self, runtime: ServiceRuntime, sources: Sequence[RetainedRecords], *,
                 schedule: RetentionSchedule | None = None, group_prefix: str | None = None,
                 keeps_figures: bool = False) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.service = settings.service_name
        self.schedule = schedule or load_retention_schedule(settings.retention_file)
        self.sources = list(sources)
        self.batch = settings.retention_batch
        # Insight keeps figures: what it does with them is the rule's `figures`, not its `then`.
        self.keeps_figures = keeps_figures
        self.erasures = runtime.store("erasures")
        self.holds = runtime.store("legal_holds")
        self._erased_topic = runtime.topic(SUBJECT_ERASED)
        self._hold_topic = runtime.topic(LEGAL_HOLD)
        prefix = group_prefix or self.service
        runtime.subscribe(SUBJECT_ERASED, SubjectErased, f"{prefix}.erasures", self.on_erased)
        runtime.subscribe(LEGAL_HOLD, LegalHoldChanged, f"{prefix}.legal-holds", self.on_hold)
        runtime.every(settings.retention_sweep_seconds, self.retention_sweep)

    # --- legal holds -----------------------------------------------------------------------------------

    async def held(self, referral_id: str) -> LegalHold | None:
        """The hold on `referral_id` while it is placed, else None."""
        state = await self.holds.get(referral_id)
        if state is None or state.get("state") != "placed":
            return None
        return LegalHold.model_validate({k: state[k] for k in LegalHold.model_fields})

    async def change_hold(self, hold: LegalHold, who: Principal) -> bool:
        """Place or lift a hold (decision's HTTP API, a MASH manager) and publish it to every service."""
        event = LegalHoldChanged.build(hold, correlation_id=hold.referral_id, producer=self.service,
                                       occurred_at=self.runtime.clock())

        def decide(current: dict[str, Any] | None) -> Change | None:
            if current is not None and current.get("state") == hold.state:
                return None
            return Change(self._hold_state(hold, current), [OutboxEntry.of(event, self._hold_topic)])

        changed = await self.holds.apply(hold.referral_id, decide, event_id=str(event.event_id))
        if changed:
            await self.runtime.audit.record(
                who=who, action=f"legal_hold_{hold.state}", referral_id=hold.referral_id,
                why=f"{hold.reason.value}: {hold.note}", what={"reason": hold.reason.value})
        return changed

    async def on_hold(self, event: LegalHoldChanged, _: MessageOrigin | None = None) -> None:
        """A hold placed or lifted anywhere: keep its latest state (an older one arriving late changes nothing)."""
        hold = event.payload
        changed = False

        def decide(current: dict[str, Any] | None) -> Change | None:
            nonlocal changed
            changed = False
            if current is not None and (current.get("at") or hold.at) > hold.at:
                return None
            if current is not None and current.get("state") == hold.state and current.get("at") == hold.at:
                return None  # decision's own hold, already kept when the manager placed it
            changed = True
            return Change(self._hold_state(hold, current))

        if await self.holds.apply(hold.referral_id, decide, event_id=str(event.event_id)) and changed:
            await self.runtime.audit.record(
                who=hold.by, action=f"legal_hold_{hold.state}", referral_id=hold.referral_id,
                why=f"{hold.reason.value}: {hold.note}", what={"reason": hold.reason.value, "event": "legal.hold"})

    @staticmethod
    def _hold_state(hold: LegalHold, current: dict[str, Any] | None) -> dict[str, Any]:
        history = list((current or {}).get("history", []))
        history.append({"state": hold.state, "reason": hold.reason.value, "by": hold.by, "at": hold.at})
        return {**hold.model_dump(mode="python"), "reason": hold.reason.value, "history": history}

    # --- the sweeper -----------------------------------------------------------------------------------

    async def retention_sweep(self) -> None:
        """The periodic job (its name is what the logs show)."""
        erased = await self.sweep()
        if erased:
            log.info("retention sweep", extra={"fields": {"erased": erased}})

    async def sweep(self) -> int:
        """Erase (or anonymise) what has passed its date and is not held, at most `batch` subjects; how many."""
        now = self.runtime.clock()
        done = 0
        for source in self.sources:
            before = now - self.schedule.shortest(source.kind)
            after: str | None = None
            while done < self.batch:
                page = await source.retained(before, after, PAGE)
                if not page:
                    break
                for record in page:
                    after = record.position or record.referral_id
                    if done >= self.batch:
                        break
                    if self.schedule.due_at(record) > now or await self._kept_by_a_hold(record):
                        continue
                    rule = self.schedule.rule_for(record.kind, record.outcome)
                    await self._erase_due(record, rule, now)
                    done += 1
        done += await self._sweep_audit(now)
        return done

    async def _kept_by_a_hold(self, record: RetainedRecord) -> bool:
        """A hold on the subject itself, or on a referral the record names (`held_with`), keeps it."""
        for referral_id in (record.referral_id, *record.held_with):
            if await self.held(referral_id) is not None:
                return True
        return False

    async def _erase_due(self, record: RetainedRecord, rule: RetentionRule, now: datetime) -> None:
        erasure = SubjectErasure(referral_id=record.referral_id, record_kind=record.kind, action=rule.then,
                                 rule=rule.name, erased_at=now, erased_by=self.service)
        event = SubjectErased.build(
            erasure, correlation_id=record.referral_id, producer=self.service, occurred_at=now,
            event_id=derived_event_id(record.referral_id, f"subject.erased/{self.service}"))

        def decide(current: dict[str, Any] | None) -> Change | None:
            if current is not None:  # erased before, and the records were left by a crash: erase them again
                return None
            return Change(self._erasure_state(erasure), [OutboxEntry.of(event, self._erased_topic)])

        await self.erasures.apply(record.referral_id, decide)
        await self._remove(erasure, rule, cause="retention date passed")

    async def _sweep_audit(self, now: datetime) -> int:
        """Audit records past their own rule's date go too (they outlive the records they are about)."""
        rule = self.schedule.rule_for(RecordKind.AUDIT_RECORD, None)
        cutoff = now - rule.keep.approximately()
        audit = self.runtime.audit.collection
        due = audit.find({"at": {"$lt": cutoff}}, {"_id": 1, "referral_id": 1}).sort("at", 1).limit(self.batch)
        held: dict[str, bool] = {}
        ids = []
        async for doc in due:
            # A hold keeps the record of who looked at the case too: a complaint is about exactly that.
            referral_id = doc.get("referral_id")
            if referral_id is not None and referral_id not in held:
                held[referral_id] = await self.held(referral_id) is not None
            if referral_id is None or not held[referral_id]:
                ids.append(doc["_id"])
        if ids:
            await audit.delete_many({"_id": {"$in": ids}})
        return len(ids)

    # --- erasure heard from another service --------------------------------------------------------------

    async def on_erased(self, event: SubjectErased, _: MessageOrigin | None = None) -> None:
        """Another service (or this one) erased a subject: drop this service's copies, unless held here."""
        erasure = event.payload
        hold = await self.held(erasure.referral_id)
        if hold is not None:
            await self.runtime.audit.record(
                who=SWEEPER, action="erasure_withheld", referral_id=erasure.referral_id,
                why=f"legal hold ({hold.reason.value}) placed by {hold.by}",
                what={"rule": erasure.rule, "erased_by": erasure.erased_by})
            return

        def decide(current: dict[str, Any] | None) -> Change | None:
            return Change(current or self._erasure_state(erasure))

        if not await self.erasures.apply(erasure.referral_id, decide, event_id=str(event.event_id)):
            return  # this very event was applied before: a redelivery
        rule = self._rule_named(erasure.rule, erasure.record_kind)
        await self._remove(erasure, rule, cause=f"erased by {erasure.erased_by}")

    def _rule_named(self, name: str, kind: RecordKind) -> RetentionRule:
        outcome = name.partition("/")[2] or None
        return self.schedule.rule_for(kind, outcome)

    async def _remove(self, erasure: SubjectErasure, rule: RetentionRule, *, cause: str) -> None:
        action = rule.figures if self.keeps_figures else rule.then
        removed = 0
        for source in self.sources:
            if action is ErasureAction.ANONYMISE:
                removed += await source.anonymise(erasure.referral_id)
            else:
                removed += await source.erase(erasure.referral_id)
        if removed:
            await self.runtime.audit.record(
                who=SWEEPER, action="anonymised" if action is ErasureAction.ANONYMISE else "erased",
                referral_id=erasure.referral_id, why=f"{rule.name}: {cause}",
                what={"documents": removed, "rule": rule.name, "erased_by": erasure.erased_by})

    @staticmethod
    def _erasure_state(erasure: SubjectErasure) -> dict[str, Any]:
        return {"referral_id": erasure.referral_id, "rule": erasure.rule, "record_kind": erasure.record_kind.value,
                "erased_at": erasure.erased_at, "erased_by": erasure.erased_by}
