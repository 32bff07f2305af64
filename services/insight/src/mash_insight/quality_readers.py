"""The tolerant reader of quality.audit.recorded (issue 23): a practice lead's audit of a dip-sampled case.

Kept apart from readers.py so the quality-assurance figure stands on its own; it reads as those views do (unknown
fields ignored, enumerations as text, the contract's current version), and names no referral: insight counts
audits, it does not need to know which case was audited.
"""

from __future__ import annotations

from typing import Literal

from mash_schemas.envelope import EventEnvelope
from pydantic import AwareDatetime, ConfigDict

from mash_insight.readers import View, reads_the_contract


class QualityAuditView(View):
    """quality.audit.recorded: the week, the outcome audited, agreement and grade."""

    audit_id: str
    week: str
    outcome: str
    agrees_with_decision: bool
    grade: str
    audited_at: AwareDatetime


@reads_the_contract
class QualityAuditRecordedView(EventEnvelope[QualityAuditView]):
    """quality.audit.recorded (mash.quality.audit.recorded)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: Literal["quality.audit.recorded"] = "quality.audit.recorded"
