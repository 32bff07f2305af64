"""Quality assurance (issue 23): a practice lead's audit of a decided case drawn in the hub's weekly dip sample.

The event carries what insight counts (the week, the outcome audited, agreement with the threshold decision and
the grade of the practice), never the practice lead's learning or any case content: that stays in decision.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.common import Model, ShortText
from mash_schemas.decision import Outcome
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import QUALITY_AUDIT_RECORDED

ISO_WEEK_PATTERN = r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$"


class PracticeGrade(StrEnum):
    """The grade a practice lead gives the practice on an audited case (Ofsted's four judgements)."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


class QualityAudit(Model):
    """One audit of a sampled case: whether the practice lead agrees with the threshold decision, and the grade."""

    audit_id: ShortText = Field(description="Derived from the referral; one audit per sampled case.")
    referral_id: ShortText
    week: str = Field(pattern=ISO_WEEK_PATTERN, description="The ISO week whose dip sample drew it: 2026-W49.")
    outcome: Outcome = Field(description="The outcome of the decision audited (the sample's stratum).")
    agrees_with_decision: bool = Field(description="Whether the practice lead agrees with the threshold decision.")
    grade: PracticeGrade
    audited_at: AwareDatetime


class QualityAuditRecorded(EventEnvelope[QualityAudit]):
    """A practice lead recorded the audit of a case drawn in the dip sample."""

    TOPIC: ClassVar[str] = QUALITY_AUDIT_RECORDED
    event_type: Literal["quality.audit.recorded"] = "quality.audit.recorded"
