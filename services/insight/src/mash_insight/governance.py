"""Insight's information governance: retention sweeps and legal holds over its facts, erasure, and its part of a
subject access request (`govern` wires them; mash_runtime.governance does the sweeping and holding).

Insight's part of a subject access request: the facts it keeps about the person's referrals.

Insight keeps no names and no free text, so it answers for the referrals decision found (`referral_ids` on
the request), each fact given as the fields insight holds. It never holds a sealed item: nothing is withheld.
"""

from __future__ import annotations

from datetime import datetime

from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime
from mash_runtime.subject_access import Found, answer_subject_access
from mash_schemas.subject_access import HeldItem, SubjectAccessRequest

from mash_insight.store import InsightStore, RetainedConsultationFigures, RetainedFigures


class SubjectAccessFinder:
    """Searches insight's own facts for a subject access request."""

    def __init__(self, store: InsightStore) -> None:
        self._store = store

    async def find(self, request: SubjectAccessRequest) -> Found:
        """Insight's part: one held item per fact about the person's referrals."""
        items = []
        for kind, fact in await self._store.facts_about(request.referral_ids):
            shown = "; ".join(f"{name}: {value.isoformat() if isinstance(value, datetime) else value}"
                              for name, value in sorted(fact.items()) if name != "_id")
            items.append(HeldItem(item_id=f"{kind}/{fact['_id']}", kind=f"figure ({kind})",
                                  referral_id=str(fact.get("referral_id")), summary=shown[:3_900]))
        return items, []


def govern(runtime: ServiceRuntime, store: InsightStore, *, generation: str) -> Governance:
    """Sweep and hold the facts by the retention schedule (a figure outlives its facts: `keeps_figures`), in this
    generation's consumer groups, and answer insight's part of each subject access request."""
    figures = RetainedFigures(store)
    governance = Governance(runtime, [figures, RetainedConsultationFigures(store, figures)],
                            group_prefix=f"insight.{generation}", keeps_figures=True)
    answer_subject_access(runtime, SubjectAccessFinder(store).find)
    return governance
