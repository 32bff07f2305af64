"""Quality assurance: the weekly dip sample of decided cases, and the practice lead's audit of each case drawn.

Each ISO week the hub draws a sample of the cases decided that week (domain/dip_sample.py: the size per outcome
from config/dip_sample.yaml, the choice from the hub and the week, so nobody picks which cases are audited). A
practice lead reads each case drawn, says whether they agree with the threshold decision, grades the practice and
records the learning; the manager who decided sees the audit on the case, and insight counts it (the event carries
no learning). Every look at the sample, at a sampled case and at an audit is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal
from mash_runtime.clock import Clock, utc_now
from mash_runtime.http import DomainError, Refusal, refusals_answered
from mash_runtime.outbox import OutboxEntry
from mash_runtime.roles import Role
from mash_runtime.settings import HubSettings
from mash_schemas.envelope import derived_event_id
from mash_schemas.quality import PracticeGrade, QualityAudit, QualityAuditRecorded
from mash_schemas.topics import QUALITY_AUDIT_RECORDED

from mash_decision.domain.case_file import CaseFile
from mash_decision.domain.case_file_views import case_file_view
from mash_decision.domain.dip_sample import DecidedCase, DipSample, DipSampleRules, IsoWeek, draw_dip_sample
from mash_decision.domain.quality_audit import (
    AlreadyAudited,
    NotInSample,
    QualityAuditRecord,
    record_audit,
)
from mash_decision.store import DecisionStore, QualityAuditStore

PRODUCER = "decision"


class SampledCaseNotFound(DomainError):
    """No decided case with that referral id was drawn in a dip sample."""

    status = 404


class AuditRefused(DomainError):
    """The audit cannot be recorded: the case has its audit already."""

    status = 409


class NoSuchWeek(DomainError):
    """The week asked for is not an ISO week (2026-W49)."""

    status = 422


class QualityRoleRefused(DomainError):
    """Only a practice lead audits; a manager may read an audit."""

    status = 403


QUALITY_REFUSALS: tuple[Refusal, ...] = (
    (NotInSample, SampledCaseNotFound, "referral_id"),
    (AlreadyAudited, AuditRefused, "referral_id"),
)


@dataclass(frozen=True)
class SampledCase:
    """One line of the week's sample as the practice lead's list shows it."""

    referral_id: str
    outcome: str
    decided_by: str
    decided_at: str
    audited: bool


def week_of(text: str | None, now: IsoWeek) -> IsoWeek:
    """The week named (2026-W49), or this week."""
    if text is None:
        return now
    try:
        return IsoWeek.parse(text, now.zone)
    except ValueError as exc:
        raise NoSuchWeek(f"{text} is not an ISO week such as {now}", field="week") from exc


def _decided(case: CaseFile) -> DecidedCase:
    decision = case.decision
    assert decision is not None  # the store finds decided case files only
    return DecidedCase(case.referral_id, decision.outcome, decision.decided_by, decision.decided_at)


def _one_of(principal: Principal, *roles: Role) -> None:
    if not principal.roles & set(roles):
        raise QualityRoleRefused(f"this needs the role {' or '.join(role.value for role in roles)}")


class QualityAssurance:
    """The hub's weekly dip sample and its audits."""

    def __init__(self, settings: HubSettings, cases: DecisionStore, audits: QualityAuditStore, rules: DipSampleRules,
                 *, audit: AuditLog, clock: Clock = utc_now, zone: tzinfo = UTC) -> None:
        self._settings = settings
        self._cases = cases
        self._audits = audits
        self._rules = rules
        self._audit = audit
        self._clock = clock
        # The hub's own calendar (its working hours' timezone): a week starts at Monday midnight there.
        self._zone = zone
        # The seed names the hub: its namespace on a shared cluster, else the one hub of the deployment.
        self._hub = settings.topic_namespace or "hub"

    def this_week(self) -> IsoWeek:
        """The ISO week the desk's clock is in."""
        return IsoWeek.of(self._clock(), self._zone)

    async def draw(self, week: IsoWeek) -> DipSample:
        """The week's sample, drawn from the cases decided in it (drawn again, the same)."""
        decided = await self._cases.decided_between(week.starts(), week.ends())
        return draw_dip_sample([_decided(case) for case in decided if case.decision is not None], self._rules,
                               hub=self._hub, week=week)

    async def sample(self, principal: Principal, week: IsoWeek) -> dict[str, Any]:
        """The week's sampled cases for the practice lead, each marked audited or not (the listing is audited)."""
        _one_of(principal, Role.PRACTICE_LEAD)
        drawn = await self.draw(week)
        audited = {record.referral_id for record in await self._audits.of_week(str(week))}
        cases = [SampledCase(case.referral_id, case.outcome.value, case.decided_by, case.decided_at.isoformat(),
                             case.referral_id in audited) for case in drawn.cases]
        await self._audit.record(who=principal, action="quality.list_dip_sample", referral_id=None,
                                 why="quality assurance dip sample",
                                 what={"week": str(week), "referral_ids": [case.referral_id for case in cases]})
        return {"week": str(week), "starts": week.monday().isoformat(),
                "decided_by_outcome": {outcome.value: n for outcome, n in drawn.decided_by_outcome.items()},
                "cases": [case.__dict__ for case in cases]}

    async def _sampled(self, referral_id: str) -> tuple[CaseFile, DipSample]:
        """The case and its week's sample; 404 unless the case was decided and drawn."""
        case = await self._cases.get(referral_id)
        if case is None or case.decision is None:
            raise SampledCaseNotFound(f"no decided case {referral_id}", field="referral_id")
        sample = await self.draw(IsoWeek.of(case.decision.decided_at, self._zone))
        if not sample.holds(referral_id):
            raise SampledCaseNotFound(f"{referral_id} is not in the dip sample of {sample.week}", field="referral_id")
        return case, sample

    async def sampled_case(self, referral_id: str, principal: Principal, why: str) -> dict[str, Any]:
        """A sampled case as the practice lead reads it to audit it (the whole case file, as the manager had it)."""
        _one_of(principal, Role.PRACTICE_LEAD)
        case, sample = await self._sampled(referral_id)
        # The practice lead judges the decision as the manager made it, so reads what the manager read.
        visible = case_file_view(case, Role.MANAGER)
        await self._audit.record(who=principal, action="view_case_file", referral_id=referral_id, why=why,
                                 what={"role": Role.PRACTICE_LEAD.value, "dip_sample": str(sample.week)})
        found = await self._audits.get(f"QA-{referral_id}")
        return {"week": str(sample.week), "case_file": visible.to_document(),
                "quality_audit": found.model_dump(mode="json") if found else None}

    async def record(self, referral_id: str, principal: Principal, *, agrees_with_decision: bool,
                     grade: PracticeGrade, learning: str) -> QualityAuditRecord:
        """Record the practice lead's audit of a sampled case, with the event insight counts."""
        _one_of(principal, Role.PRACTICE_LEAD)
        _, sample = await self._sampled(referral_id)
        now = self._clock()
        kept: list[QualityAuditRecord] = []

        def decide(existing: QualityAuditRecord | None) -> tuple[QualityAuditRecord, list[OutboxEntry]]:
            with refusals_answered(QUALITY_REFUSALS):
                audit = record_audit(existing, sample, referral_id, audited_by=principal.subject,
                                     agrees_with_decision=agrees_with_decision, grade=grade, learning=learning,
                                     now=now)
            kept[:] = [audit]
            event = QualityAuditRecorded.build(
                QualityAudit(audit_id=audit.audit_id, referral_id=referral_id, week=audit.week, outcome=audit.outcome,
                             agrees_with_decision=agrees_with_decision, grade=grade, audited_at=now),
                correlation_id=referral_id, producer=PRODUCER, occurred_at=now,
                event_id=derived_event_id(audit.audit_id, "recorded"))
            return audit, [OutboxEntry.of(event, self._settings.topic(QUALITY_AUDIT_RECORDED))]

        await self._audits.change_audit(f"QA-{referral_id}", decide)
        await self._audit.record(who=principal, action="quality.record_audit", referral_id=referral_id,
                                 why="quality assurance dip sample",
                                 what={"week": kept[0].week, "grade": grade.value, "agrees": agrees_with_decision})
        return kept[0]

    async def audit_of(self, referral_id: str, principal: Principal) -> QualityAuditRecord | None:
        """The audit of a case, for the practice lead and the managers (the manager who decided sees it)."""
        _one_of(principal, Role.PRACTICE_LEAD, Role.MANAGER)
        found = await self._audits.get(f"QA-{referral_id}")
        await self._audit.record(who=principal, action="quality.view_audit", referral_id=referral_id,
                                 why="quality assurance audit", what={"found": found is not None})
        return found
