"""The quality-assurance figure: practice leads' audits of the weekly dip sample, by grade and by agreement.

One fact per audit, keyed by the audit's id. It names no referral and holds no learning: the week, the outcome
audited, whether the practice lead agreed with the threshold decision, the grade and when. The figure counts them
over a period (by the day of the audit, in the hub's timezone).
"""

from __future__ import annotations

from collections.abc import Iterable

from mash_schemas.quality import PracticeGrade
from pydantic import AwareDatetime, BaseModel, Field

from mash_insight.domain.facts import Fact
from mash_insight.domain.periods import Period
from mash_insight.quality_readers import QualityAuditView

# The grades, in the order the practice gives them, taken from the contract so the two cannot drift; a grade an
# event of a later contract version carries is counted under its own name after these.
GRADES = tuple(grade.value for grade in PracticeGrade)


class QualityAuditFact(Fact):
    """A practice lead's audit of a sampled case (quality.audit.recorded); one per audit."""

    audit_id: str
    week: str
    outcome: str
    agrees_with_decision: bool
    grade: str
    audited_at: AwareDatetime

    def key(self) -> str:
        return self.audit_id


def quality_audit_fact(audit: QualityAuditView) -> QualityAuditFact:
    """The fact of an audit."""
    return QualityAuditFact(audit_id=audit.audit_id, week=audit.week, outcome=audit.outcome,
                            agrees_with_decision=audit.agrees_with_decision, grade=audit.grade,
                            audited_at=audit.audited_at)


class Agreement(BaseModel):
    """How many audits agreed with the threshold decision, and how many did not."""

    audits: int = 0
    agreed: int = 0
    disagreed: int = 0


class QualityAssuranceReport(BaseModel):
    """The period's audits: all of them, by grade, and agreement overall and by the outcome audited."""

    first: str
    last: str
    audits: int
    by_grade: dict[str, int] = Field(description="Every grade, in order, with the audits that gave it (0 included).")
    agreement: Agreement
    by_outcome: dict[str, Agreement]
    weeks: list[str] = Field(description="The dip-sample weeks the audits were drawn in.")


def quality_assurance(audits: Iterable[QualityAuditFact], period: Period) -> QualityAssuranceReport:
    """Count the audits made in `period`."""
    within = [audit for audit in audits if period.contains(audit.audited_at)]
    by_grade = dict.fromkeys(GRADES, 0)
    agreement = Agreement()
    by_outcome: dict[str, Agreement] = {}
    for audit in within:
        by_grade[audit.grade] = by_grade.get(audit.grade, 0) + 1
        for tally in (agreement, by_outcome.setdefault(audit.outcome, Agreement())):
            tally.audits += 1
            if audit.agrees_with_decision:
                tally.agreed += 1
            else:
                tally.disagreed += 1
    return QualityAssuranceReport(
        first=period.first.isoformat(), last=period.last.isoformat(), audits=len(within), by_grade=by_grade,
        agreement=agreement, by_outcome=dict(sorted(by_outcome.items())),
        weeks=sorted({audit.week for audit in within}))
