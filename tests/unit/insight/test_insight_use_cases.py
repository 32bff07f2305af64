"""Insight's use cases (mash_insight.reports and the fact recorder) through its real bootstrap: a fact per
event, an event delivered again or copied under a new id kept once, the figures for a period, and 'today'
taken from the clock.

The scenarios run in memory here (MemoryDatabase, TestKafkaBroker) and on the real broker and store in
tests/integration/insight/test_insight_use_cases_real.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from mash_insight.bootstrap import InsightService, bootstrap
from mash_insight.settings import InsightSettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_schemas.topics import DECISION_MADE, REFERRAL_RECEIVED

from tests.support.insight_events import decision_event, referral_event
from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService

DAY = MONDAY_MORNING.date()


def analyst(hub: RunningService[InsightService]) -> dict[str, str]:
    """An analyst's bearer token (the figures' reader)."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), "Ana Lyst", [Role.ANALYST])
    return {"Authorization": f"Bearer {token}"}


async def kept(hub: RunningService[InsightService], contacts: int, decisions: int) -> dict[str, int]:
    """Wait until insight keeps exactly these contacts and decisions; every count."""

    async def counted() -> dict[str, int] | None:
        counts = await hub.service.store.counts()
        return counts if (counts["contacts"], counts["decisions"]) == (contacts, decisions) else None

    return await hub.eventually(counted)


async def performance(hub: RunningService[InsightService], **period: str) -> dict[str, Any]:
    """GET /figures/performance for `period` (from, to), as JSON."""
    response = await hub.http.get("/figures/performance", params=period, headers=analyst(hub))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


class InsightScenarios:
    """What insight keeps and reports, wherever it runs."""

    async def test_each_event_is_one_fact_kept_once_and_the_figures_count_the_period(
        self, hub: RunningService[InsightService]
    ) -> None:
        received_at = MONDAY_MORNING - timedelta(hours=1)
        first, second = (referral_event(f"MASH-{uuid.uuid4().hex[:8]}", received_at, person_refs=("LA-1",))
                         for _ in range(2))
        key = first.correlation_id
        decided = decision_event(key, received_at, MONDAY_MORNING)
        for event in (first, second):
            await hub.publish(event, REFERRAL_RECEIVED)
        await hub.publish(decided, DECISION_MADE)
        await kept(hub, contacts=2, decisions=1)

        # Delivered again, and copied under a new event id: the same facts. Then, on the same partitions
        # (so after the repeats), one new contact and decision to wait for.
        await hub.publish(first, REFERRAL_RECEIVED)
        await hub.publish(decided.model_copy(update={"event_id": uuid.uuid4()}), DECISION_MADE)
        third = referral_event(f"MASH-{uuid.uuid4().hex[:8]}", received_at)
        await hub.publish(third, REFERRAL_RECEIVED, key=key)
        await hub.publish(decision_event(third.correlation_id, received_at, MONDAY_MORNING), DECISION_MADE, key=key)
        await kept(hub, contacts=3, decisions=2)

        report = await performance(hub, **{"from": DAY.isoformat(), "to": DAY.isoformat()})
        assert (report["total"]["contacts"], report["total"]["decided"]) == (3, 2)
        assert report["total"]["outcomes"] == {"early_help": 2}
        later = await performance(hub, **{"from": (DAY + timedelta(days=1)).isoformat(),
                                          "to": (DAY + timedelta(days=7)).isoformat()})
        assert later["total"]["contacts"] == 0

    async def test_a_period_not_given_ends_today_by_the_clock(self, hub: RunningService[InsightService]) -> None:
        report = await performance(hub)
        assert (report["first"], report["last"]) == ((DAY - timedelta(days=29)).isoformat(), DAY.isoformat())

        hub.clock.advance(days=10)
        moved = await performance(hub)
        assert moved["last"] == (DAY + timedelta(days=10)).isoformat()

        backwards = await hub.http.get("/figures/performance", params={"from": "2026-03-05", "to": "2026-03-01"},
                                       headers=analyst(hub))
        assert backwards.status_code == 422 and backwards.json()["fields"][0]["field"] == "from"


class TestInsightInMemory(InMemory[InsightService], InsightScenarios):
    """Insight's use cases in memory."""

    bootstrap = staticmethod(bootstrap)
    settings_class = InsightSettings


pytestmark = pytest.mark.unit
