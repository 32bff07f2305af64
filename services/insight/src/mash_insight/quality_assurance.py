"""Insight's quality-assurance use case (issue 23): each audit of the dip sample: its fact, then its figure.

Apart from fact_recording.py and reports.py so that it adds a figure without touching the others: its own reader
(quality_readers.py), fact and figure (domain/quality_assurance.py) and collection (store.QualityAuditFacts).
"""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin

from mash_insight.domain.periods import Period
from mash_insight.domain.quality_assurance import QualityAssuranceReport, quality_assurance, quality_audit_fact
from mash_insight.quality_readers import QualityAuditRecordedView
from mash_insight.store import QualityAuditFacts


class QualityAssuranceFigures:
    """Keeps each audit's fact once and counts them over a period."""

    def __init__(self, store: QualityAuditFacts) -> None:
        self.store = store

    async def on_audit(self, event: QualityAuditRecordedView, _: MessageOrigin | None = None) -> None:
        """A practice lead's audit of a sampled case."""
        await self.store.record(quality_audit_fact(event.payload), str(event.event_id))

    async def report(self, period: Period) -> QualityAssuranceReport:
        """The period's audits by grade and agreement."""
        return quality_assurance(await self.store.all(), period)
