"""Insight's quality-assurance figure (issue 23) through its real bootstrap, in memory: each practice lead's audit of
the dip sample is one fact kept once, and GET /figures/quality-assurance counts the period's audits by grade and
agreement as an independent count over the generated audits does. Its reader follows the contract as readers.py's do.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from mash_insight.bootstrap import InsightService, bootstrap
from mash_insight.quality_readers import QualityAuditRecordedView
from mash_insight.settings import InsightSettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_schemas.decision import Outcome
from mash_schemas.envelope import derived_event_id
from mash_schemas.evolution import read_event
from mash_schemas.quality import PracticeGrade, QualityAudit, QualityAuditRecorded
from mash_schemas.topics import QUALITY_AUDIT_RECORDED

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.insight.test_readers_follow_the_contract import drift, subset

Hub = RunningService[InsightService]


def audits(count: int, seed: int) -> list[QualityAuditRecorded]:
    """`count` audits over the four weeks before the clock's Monday, with grades and agreement from a fixed seed."""
    chosen = random.Random(seed)
    made = []
    for n in range(count):
        at = MONDAY_MORNING - timedelta(days=chosen.randrange(0, 28), hours=chosen.randrange(0, 8))
        calendar = at.isocalendar()
        audit = QualityAudit(
            audit_id=f"QA-MASH-{n:04d}", referral_id=f"MASH-{n:04d}", week=f"{calendar.year}-W{calendar.week:02d}",
            outcome=chosen.choice(list(Outcome)), agrees_with_decision=chosen.random() < 0.8,
            grade=chosen.choice(list(PracticeGrade)), audited_at=at)
        made.append(QualityAuditRecorded.build(audit, correlation_id=audit.referral_id, producer="decision",
                                               event_id=derived_event_id(audit.audit_id, "recorded"), occurred_at=at))
    return made


def reader(hub: Hub, role: Role) -> dict[str, str]:
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), "Priya", [role])
    return {"Authorization": f"Bearer {token}"}


class QualityAssuranceFigureScenarios:
    """The figure, wherever insight runs."""

    async def test_each_audit_is_counted_once_by_grade_and_agreement(self, hub: Hub) -> None:
        made = audits(40, seed=23)
        for event in [*made, made[0], made[1]]:  # two delivered again
            await hub.publish(event, QUALITY_AUDIT_RECORDED)
        first = (MONDAY_MORNING - timedelta(days=13)).date()

        async def counted() -> dict[str, Any] | None:
            # Every fact stored first, then the figure: asked the other way round, the last fact could land
            # between the two and the figure be one short (seen on the real stack).
            if len(await hub.service.quality.store.all()) != len(made):
                return None
            response = await hub.http.get("/figures/quality-assurance", params={"from": str(first)},
                                          headers=reader(hub, Role.PRACTICE_LEAD))
            assert response.status_code == 200, response.text
            report: dict[str, Any] = response.json()
            return report

        report = await hub.eventually(counted)
        # Counted again here, independently, from what was sent.
        within = [e.payload for e in made if first <= e.payload.audited_at.astimezone(hub.service.reports.timescales
                                                                                     .working.zone).date()]
        assert report["audits"] == len(within) > 0
        grades = Counter(audit.grade.value for audit in within)
        assert report["by_grade"] == {grade.value: grades[grade.value] for grade in PracticeGrade}
        agreed = sum(audit.agrees_with_decision for audit in within)
        assert report["agreement"] == {"audits": len(within), "agreed": agreed, "disagreed": len(within) - agreed}
        for outcome, tally in report["by_outcome"].items():
            assert tally["audits"] == sum(audit.outcome.value == outcome for audit in within)
        assert (await hub.http.get("/figures/quality-assurance", headers=reader(hub, Role.SCREENER))).status_code == 403
        refused = await hub.http.get("/figures/quality-assurance", params={"from": "2026-03-02", "to": "2026-03-01"},
                                     headers=reader(hub, Role.ANALYST))
        assert refused.status_code == 422
        assert refused.json()["fields"][0]["field"] == "from"


class TestQualityAssuranceFigureInMemory(InMemory[InsightService], QualityAssuranceFigureScenarios):
    """The figure in memory."""

    bootstrap = staticmethod(bootstrap)
    settings_class = InsightSettings


def test_the_reader_follows_the_contract() -> None:
    assert QualityAuditRecordedView.SCHEMA_VERSION == QualityAuditRecorded.SCHEMA_VERSION
    assert drift(QualityAuditRecordedView, [QualityAuditRecorded], "") == []
    for event in audits(5, seed=7):
        read = read_event(event.model_dump_json().encode(), QualityAuditRecordedView)
        assert subset(read.model_dump(mode="json")["payload"], event.model_dump(mode="json")["payload"])
        assert "referral_id" not in read.payload.model_dump()  # insight does not keep which case was audited


pytestmark = pytest.mark.unit
