"""A practice lead's audit of a case drawn in the dip sample: agreement with the threshold decision, grade, learning.

One audit per sampled case. It is kept by decision beside the case file (the learning is the practice lead's own
words about a case, sealed at rest like the case file); only the counts travel to insight.
"""

from __future__ import annotations

from datetime import datetime

from mash_schemas.decision import Outcome
from mash_schemas.quality import ISO_WEEK_PATTERN, PracticeGrade
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mash_decision.domain.dip_sample import DipSample


class QualityAuditError(Exception):
    """An audit the practice's rules do not allow."""


class NotInSample(QualityAuditError):
    """The case was not drawn in its week's dip sample, so it is not audited here."""


class AlreadyAudited(QualityAuditError):
    """The case has its audit already; the practice keeps one per sampled case."""


class QualityAuditRecord(BaseModel):
    """The audit as kept: the case, its week and decision, the practice lead's judgement and learning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str
    week: str = Field(pattern=ISO_WEEK_PATTERN)
    outcome: Outcome
    decided_by: str
    agrees_with_decision: bool
    grade: PracticeGrade
    learning: str
    audited_by: str
    audited_at: AwareDatetime

    @property
    def audit_id(self) -> str:
        """One audit per sampled case, so the referral names it."""
        return f"QA-{self.referral_id}"


def record_audit(existing: QualityAuditRecord | None, sample: DipSample, referral_id: str, *, audited_by: str,
                 agrees_with_decision: bool, grade: PracticeGrade, learning: str,
                 now: datetime) -> QualityAuditRecord:
    """The audit of `referral_id`, which must be in `sample` and not yet audited."""
    if existing is not None:
        raise AlreadyAudited(f"{referral_id} was audited already, by {existing.audited_by}")
    drawn = next((case for case in sample.cases if case.referral_id == referral_id), None)
    if drawn is None:
        raise NotInSample(f"{referral_id} is not in the dip sample of {sample.week}")
    return QualityAuditRecord(
        referral_id=referral_id, week=str(sample.week), outcome=drawn.outcome, decided_by=drawn.decided_by,
        agrees_with_decision=agrees_with_decision, grade=grade, learning=learning, audited_by=audited_by,
        audited_at=now)
