"""/metrics after a flow through two real services: intake publishes a contact and a consultation, insight
consumes them; each service's counters move by exactly what went through it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mash_insight.settings import InsightSettings
from mash_intake.settings import IntakeSettings
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
from mash_schemas.topics import CONSULTATION_RECORDED, REFERRAL_RECEIVED

from tests.integration.insight.test_insight_on_the_real_stack import ANALYST, metric, running_insight
from tests.integration.intake.conftest import running_intake
from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

DEMO = Path(__file__).resolve().parents[3] / "demo"
STAFF = {"Authorization": "Bearer " + issue_token(DEVELOPMENT_JWT_SECRET, "screener-1", [Role.SCREENER])}


async def test_metrics_count_what_each_service_produced_and_consumed(infrastructure: Infrastructure,
                                                                      namespace: str) -> None:
    common: dict[str, Any] = {"environment": "test", "kafka_bootstrap": infrastructure.kafka_bootstrap,
                              "mongo_url": infrastructure.mongo_url, "topic_namespace": namespace,
                              "relay_poll_seconds": 0.2}
    intake_settings = IntakeSettings(**common, mongo_database=f"{namespace}_intake")
    insight_settings = InsightSettings(**common, mongo_database=f"{namespace}_insight")
    contact = json.loads((DEMO / "contacts" / "scenario-5-quiet-worry.json").read_text(encoding="utf-8"))
    consultation = {"asked_by": {"name": "Dr Patel", "role": "GP", "sector": "health"},
                    "categories": ["emotional_wellbeing"], "question": "Low mood; refer?",
                    "advice": "Refer to CAMHS; no MASH contact needed.", "led_to_contact": False}
    received, consulted = intake_settings.topic(REFERRAL_RECEIVED), intake_settings.topic(CONSULTATION_RECORDED)
    async with running_intake(intake_settings) as intake, running_insight(insight_settings) as insight:
        assert (await intake.http.post("/contacts", json=contact)).status_code == 202
        assert (await intake.http.post("/consultations", json=consultation, headers=STAFF)).status_code == 202

        async def moved() -> bool:
            produced = (await intake.http.get("/metrics")).text
            consumed = (await insight.get("/metrics")).text
            return (metric(produced, "mash_events_produced_total", service="intake", topic=received) == 1
                    and metric(produced, "mash_events_produced_total", service="intake", topic=consulted) == 1
                    and metric(consumed, "mash_events_consumed_total", service="insight", topic=received) == 1
                    and metric(consumed, "mash_events_consumed_total", service="insight", topic=consulted) == 1)

        await eventually(moved, timeout=45, interval=0.3, what="intake's produced and insight's consumed counters")
        produced = (await intake.http.get("/metrics")).text
        assert metric(produced, "mash_outbox_backlog", service="intake") == 0
        counts = (await insight.get("/facts/counts", headers=ANALYST)).json()
        assert (counts["contacts"], counts["consultations"]) == (1, 1)
        day = (await insight.get("/figures/performance", headers=ANALYST)).json()["total"]
        assert (day["contacts"], day["consultations"], day["by_source"]) == (1, 1, {"education": 1})
