"""Case files in MongoDB: the only module of the decision service that touches its collections.

A case file holds agency intelligence, so it is stored encrypted with the hub's sealing keys (the
whole case file as one sealed value); the queue and the clock read only referral id, state, rating
and due time, which carry no case content. Writes go through the runtime's AggregateStore (one
version-checked write holding state, inbox and outbox), so nothing is applied twice or lost.

The use cases see aggregates only (CaseFile, SubjectAccessCase, the neighbour's AgencyResponse): each
`change_*` hands its `decide` the aggregate and stores what it returns, so the mapping to documents, the
sealing, and the referral's trace that later events continue all stay here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mash_runtime.outbox import OutboxEntry
from mash_runtime.retention import RetainedRecord
from mash_runtime.sealing import AtRestCipher
from mash_runtime.store import VERSION, AggregateStore, Change, sweep_page
from mash_runtime.telemetry import current_traceparent
from mash_runtime.timescales import Deadline
from mash_schemas.agency import AgencyResponse
from mash_schemas.governance import RecordKind

from mash_decision.domain.case_file import CaseFile
from mash_decision.domain.neighbour_answer import case_subject_keys
from mash_decision.domain.quality_audit import QualityAuditRecord
from mash_decision.domain.subject_access import SubjectAccessCase

OPEN_STATES = ["awaiting_screening", "enquiry_open", "awaiting_decision"]

# What a decision on a case file returns: the case file as it now is and the events to publish with it, or None
# to change nothing. It may run again after a concurrent write, on a fresh copy, so it must be pure.
CaseFileDecision = Callable[[CaseFile | None], tuple[CaseFile, list[OutboxEntry]] | None]
# The same for a subject access request.
SubjectAccessCaseDecision = Callable[
    [SubjectAccessCase | None], tuple[SubjectAccessCase, list[OutboxEntry]] | None]
# The same for a practice lead's audit of a sampled case.
QualityAuditDecision = Callable[
    [QualityAuditRecord | None], tuple[QualityAuditRecord, list[OutboxEntry]] | None]


@dataclass(frozen=True)
class OpenDeadline:
    """An open case's decision deadline as the desk's clock sees it, with the alerts it has raised already."""

    referral_id: str
    deadline: Deadline
    alerts_raised: tuple[str, ...]


class DecisionStore:
    """Seals case files into store state, opens them back, and finds the open ones."""

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
        self._cipher = cipher
        # The clock's last look at each open case: ((version, due_at, rating), referral id, decision deadline). A frozen
        # Deadline names a rating and due times, no case content, so nothing sealed is kept open in memory.
        self._deadlines: dict[str, tuple[Any, str, Deadline]] = {}

    def _document(self, case: CaseFile, previous: dict[str, Any] | None) -> dict[str, Any]:
        """The document state for `case`: sealed body plus queue fields, keeping the alerts already raised."""
        return {
            "referral_id": case.referral_id,
            "state": case.state.value,
            "rating": case.rating.value,
            "received_at": case.referral.received_at,
            "due_at": case.decision_deadline.due_at,
            # When the case was decided, in clear (a time, no case content): the week's dip sample is drawn from it.
            "decided_at": case.decision.decided_at if case.decision is not None else None,
            "sealed_case": self._cipher.seal(json.dumps(case.to_document(), default=str)),
            # Hashed subject keys: how a neighbouring hub's enquiry finds the case without opening every one.
            "subject_keys": case_subject_keys(case),
            "alerts_raised": (previous or {}).get("alerts_raised", []),
            # The referral's trace: events from later desk steps continue it (see change_case).
            "trace_parent": (previous or {}).get("trace_parent") or current_traceparent(),
        }

    def _case_of(self, state: dict[str, Any]) -> CaseFile:
        """The case file in a stored state."""
        return CaseFile.from_document(json.loads(self._cipher.open(state["sealed_case"])))

    async def change_case(self, referral_id: str, decide: CaseFileDecision, *, event_id: str | None = None,
                          alert: str | None = None) -> bool:
        """Run `decide` on the case file and store its result with its events in one write; False if unchanged.

        `event_id` marks the change as another service's event, so a redelivered event changes nothing. `alert`
        marks it as raising that timescale alert (near_breach, breached): a case file that has raised it already
        is left alone, so each alert is raised once. The events continue the referral's trace, kept since the
        case file was opened: a desk step is its own HTTP request and the clock's sweep its own job, yet one
        trace follows the referral across the services.
        """

        def on_state(current: dict[str, Any] | None) -> Change | None:
            if alert is not None and current is not None and alert in current.get("alerts_raised", []):
                return None
            decided = decide(self._case_of(current) if current is not None else None)
            if decided is None:
                return None
            case, events = decided
            state = self._document(case, current)
            if alert is not None:
                state["alerts_raised"] = [*state["alerts_raised"], alert]
            trace = current.get("trace_parent") if current is not None else None
            return Change(state=state, events=[entry.in_trace(trace) for entry in events])

        return await self.aggregates.apply(referral_id, on_state, event_id=event_id)

    async def get(self, referral_id: str) -> CaseFile | None:
        """One case file, or None."""
        state = await self.aggregates.get(referral_id)
        return self._case_of(state) if state else None

    async def open_cases(self) -> list[CaseFile]:
        """Every case still waiting for the desk or an enquiry."""
        cursor = self.aggregates.collection.find({"state": {"$in": OPEN_STATES}})
        return [self._case_of(doc) async for doc in cursor]

    async def open_deadlines(self) -> list[OpenDeadline]:
        """Every open case's referral id and decision deadline, with the alerts raised, for the desk's clock.

        The clock looks at every open case every `clock_check_seconds` (30 s), and opening each sealed case file
        to read its deadline was 7% of the desk's CPU samples in the benchmark (decrypting and validating whole
        case files that had not changed). A case file is opened again only when its document has changed since
        the last look: its version moves with every write (the relay's clear included), and the due time kept
        in clear must match too. What the clock sees is what opening every case file every time would give.
        """
        cursor = self.aggregates.collection.find({"state": {"$in": OPEN_STATES}})
        seen: dict[str, tuple[Any, str, Deadline]] = {}
        found: list[OpenDeadline] = []
        async for doc in cursor:
            mark = (doc.get(VERSION), doc.get("due_at"), doc.get("rating"))
            known = self._deadlines.get(doc["_id"])
            if known is None or mark[0] is None or known[0] != mark:
                case = self._case_of(doc)
                known = (mark, case.referral_id, case.decision_deadline)
            seen[doc["_id"]] = known
            found.append(OpenDeadline(known[1], known[2], tuple(doc.get("alerts_raised", []))))
        self._deadlines = seen  # cases no longer open are forgotten
        return found

    async def cases_about(self, keys: list[str]) -> list[CaseFile]:
        """The case files whose subjects have any of these keys (a neighbouring hub's enquiry)."""
        if not keys:
            return []
        cursor = self.aggregates.collection.find({"subject_keys": {"$in": keys}})
        return [self._case_of(self.aggregates.loaded_state(doc)) async for doc in cursor]

    async def every_case_file(self) -> list[CaseFile]:
        """Every case file, open or closed (a subject access request searches them all)."""
        cursor = self.aggregates.collection.find({})
        return [self._case_of(doc) async for doc in cursor]

    async def decided_between(self, start: datetime, end: datetime) -> list[CaseFile]:
        """The case files decided from `start` up to (not including) `end`: a week's dip sample is drawn from them."""
        cursor = self.aggregates.collection.find({"decided_at": {"$gte": start, "$lt": end}})
        return [self._case_of(self.aggregates.loaded_state(doc)) async for doc in cursor]

    async def ensure_indexes(self) -> None:
        """The queue filters by state; a neighbour's enquiry by subject key; the dip sample by decision time."""
        await self.aggregates.collection.create_index("state")
        await self.aggregates.collection.create_index("decided_at")
        await self.aggregates.collection.create_index("subject_keys")


class NeighbourAnswerStore:
    """The answers this hub gave neighbouring hubs' enquiries: one per request, with its outgoing event.

    An answer names the asking hub, the request and the items given (the disclosure the manager lists);
    it is sealed at rest like a case file, since it repeats what the desk holds.
    """

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
        self._cipher = cipher

    def _document(self, asked_by: str, answered_at: datetime, answer: AgencyResponse) -> dict[str, Any]:
        """The stored form of one answer: who asked and when in clear, the answer sealed."""
        answered = answer.model_dump(mode="json")
        return {"asked_by": asked_by, "answered_at": answered_at, "request_id": answered["request_id"],
                "sealed_answer": self._cipher.seal(json.dumps(answered, default=str))}

    async def keep_answer(self, request_id: str, *, asked_by: str, answered_at: datetime, answer: AgencyResponse,
                          event: OutboxEntry, event_id: str) -> bool:
        """Keep the answer to request `request_id` once, with the event that sends it; False if kept already.

        One answer per request: a reminder, or the same request again (`event_id`, the request's event, is
        marked applied either way), keeps and sends nothing new.
        """
        kept: list[bool] = []

        def on_state(current: dict[str, Any] | None) -> Change | None:
            kept[:] = [current is None]
            if current is not None:
                return None
            return Change(state=self._document(asked_by, answered_at, answer), events=[event])

        await self.aggregates.apply(request_id, on_state, event_id=event_id)
        return bool(kept and kept[0])

    async def answers(self, limit: int = 500) -> list[dict[str, Any]]:
        """The answers given, newest first, each opened: asking hub, time and the answer itself."""
        cursor = self.aggregates.collection.find({}).sort("answered_at", -1).limit(limit)
        return [{"asked_by": doc["asked_by"], "answered_at": doc["answered_at"],
                 "answer": json.loads(self._cipher.open(doc["sealed_answer"]))} async for doc in cursor]


class RetainedCaseFiles:
    """Decision's case files, as the retention sweeper sees them (mash_runtime.governance.RetainedRecords)."""

    kind = RecordKind.CONTACT

    def __init__(self, store: DecisionStore, audits: QualityAuditStore | None = None) -> None:
        self._store = store
        self._collection = store.aggregates.collection
        self._audits = audits

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Case files of referrals received before `received_before`, in referral order after `after`.

        The outcome and the children's dates of birth are inside the sealed case: opened here, in memory only.
        """
        cursor = sweep_page(self._collection, "received_at", received_before, after, limit)
        found = []
        async for doc in cursor:
            case = self._store._case_of(doc)
            decision = case.decision
            births = tuple(s.date_of_birth or s.expected_date for s in case.referral.subjects
                           if s.kind.value != "adult_at_risk" and (s.date_of_birth or s.expected_date))
            found.append(RetainedRecord(
                referral_id=doc["_id"], kind=RecordKind.CONTACT,
                outcome=decision.outcome.value if decision is not None else None,
                received_at=doc["received_at"], decided_at=decision.decided_at if decision is not None else None,
                birth_dates=tuple(d for d in births if d is not None)))
        return found

    async def erase(self, referral_id: str) -> int:
        """The case file goes whole: the sealed case, its queue fields and its outbox, and its quality audit."""
        erased = (await self._collection.delete_many({"_id": referral_id})).deleted_count
        if self._audits is not None:
            erased += await self._audits.erase(referral_id)
        return erased

    async def anonymise(self, referral_id: str) -> int:
        """Decision keeps no figures: as erase."""
        return await self.erase(referral_id)
class SubjectAccessStore:
    """Subject access requests, sealed at rest like case files (the parts hold case information).

    Only the request id, receipt time and due day stay in clear, for the list of requests and their deadlines.
    """

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
        self._cipher = cipher

    def _document(self, case: SubjectAccessCase) -> dict[str, Any]:
        """The document state for `case`: the sealed request plus its deadline fields."""
        return {"request_id": case.request_id, "received_at": case.received_at, "due_on": case.due_on.isoformat(),
                "sealed_request": self._cipher.seal(case.model_dump_json())}

    def _case_of(self, state: dict[str, Any]) -> SubjectAccessCase:
        """The request in a stored state."""
        return SubjectAccessCase.model_validate_json(self._cipher.open(state["sealed_request"]))

    async def change_request(self, request_id: str, decide: SubjectAccessCaseDecision, *,
                             event_id: str | None = None) -> bool:
        """Run `decide` on the request and store its result with its events in one write; False if unchanged.

        `event_id` marks the change as another service's event (a part, a permission), so a redelivered event
        changes nothing.
        """

        def on_state(current: dict[str, Any] | None) -> Change | None:
            decided = decide(self._case_of(current) if current is not None else None)
            if decided is None:
                return None
            case, events = decided
            return Change(state=self._document(case), events=events)

        return await self.aggregates.apply(request_id, on_state, event_id=event_id)

    async def get(self, request_id: str) -> SubjectAccessCase | None:
        """One request, or None."""
        state = await self.aggregates.get(request_id)
        return self._case_of(state) if state else None

    async def all(self) -> list[SubjectAccessCase]:
        """Every request, oldest first."""
        cursor = self.aggregates.collection.find({}).sort("received_at", 1)
        return [self._case_of(self.aggregates.loaded_state(doc)) async for doc in cursor]


class RetainedSubjectAccessRequests:
    """Subject access requests, as the retention sweeper sees them: each request is its own subject.

    Dated from receipt (in clear); the referrals it names are inside the sealed request, opened here in memory
    only, so that a legal hold on one of them keeps the request.
    """

    kind = RecordKind.SUBJECT_ACCESS_REQUEST

    def __init__(self, store: SubjectAccessStore) -> None:
        self._store = store
        self._collection = store.aggregates.collection

    async def retained(self, received_before: datetime, after: str | None, limit: int) -> list[RetainedRecord]:
        """Requests received before `received_before`, in request id order after `after`."""
        cursor = sweep_page(self._collection, "received_at", received_before, after, limit)
        found = []
        async for doc in cursor:
            case = self._store._case_of(self._store.aggregates.loaded_state(doc))
            found.append(RetainedRecord(referral_id=doc["_id"], kind=RecordKind.SUBJECT_ACCESS_REQUEST, outcome=None,
                                        received_at=doc["received_at"], held_with=tuple(case.referrals_named())))
        return found

    async def erase(self, referral_id: str) -> int:
        """The request goes whole: the sealed request with its parts, extension and permissions, and its outbox.

        Called with every subject's id; only a request's id (`SAR-...`) matches one.
        """
        return (await self._collection.delete_many({"_id": referral_id})).deleted_count

    async def anonymise(self, referral_id: str) -> int:
        """A request keeps no figures: as erase."""
        return await self.erase(referral_id)



class QualityAuditStore:
    """Practice leads' audits of the dip sample's cases, one per case, sealed at rest like the case file.

    The referral, week and time of the audit stay in clear, for the week's list and the case page; the judgement and
    the learning are sealed.
    """

    def __init__(self, aggregates: AggregateStore, cipher: AtRestCipher) -> None:
        self.aggregates = aggregates
        self._cipher = cipher

    def _document(self, audit: QualityAuditRecord) -> dict[str, Any]:
        """The document state for `audit`: the sealed audit plus the fields it is found by."""
        return {"referral_id": audit.referral_id, "week": audit.week, "audited_at": audit.audited_at,
                "sealed_audit": self._cipher.seal(audit.model_dump_json())}

    def _audit_of(self, state: dict[str, Any]) -> QualityAuditRecord:
        """The audit in a stored state."""
        return QualityAuditRecord.model_validate_json(self._cipher.open(state["sealed_audit"]))

    async def change_audit(self, audit_id: str, decide: QualityAuditDecision) -> bool:
        """Run `decide` on the audit and store its result with its events in one write; False if unchanged."""

        def on_state(current: dict[str, Any] | None) -> Change | None:
            decided = decide(self._audit_of(current) if current is not None else None)
            if decided is None:
                return None
            audit, events = decided
            return Change(state=self._document(audit), events=events)

        return await self.aggregates.apply(audit_id, on_state)

    async def get(self, audit_id: str) -> QualityAuditRecord | None:
        """One audit, or None."""
        state = await self.aggregates.get(audit_id)
        return self._audit_of(state) if state else None

    async def of_week(self, week: str) -> list[QualityAuditRecord]:
        """The audits of one week's sample, oldest first."""
        cursor = self.aggregates.collection.find({"week": week}).sort("audited_at", 1)
        return [self._audit_of(self.aggregates.loaded_state(doc)) async for doc in cursor]

    async def erase(self, referral_id: str) -> int:
        """The audit of a case goes with its case file (the retention sweep and erasure call this)."""
        return (await self.aggregates.collection.delete_many({"referral_id": referral_id})).deleted_count

    async def ensure_indexes(self) -> None:
        """A week's audits are listed together."""
        await self.aggregates.collection.create_index("week")
