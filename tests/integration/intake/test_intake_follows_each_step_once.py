"""A contact's status follows each step of the hub once: the same decision (or enquiry) published again under
a new event id, as a foreign client copying it would, adds nothing to the referrer's status page.

Intake runs in this process on the real broker and store; the copies are waited for by the consumer
group's committed offsets (committed only after the handler stored its effects).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from mash_intake.settings import IntakeSettings
from mash_schemas import Address, BragRating, Decision, DecisionMade, Outcome, Referrer, Subject
from mash_schemas.topics import DECISION_MADE
from pymongo import AsyncMongoClient

from tests.integration.intake.conftest import DEMO, running_intake
from tests.support.topics import produce_raw
from tests.support.waiting import eventually


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def _decision(referral_id: str) -> DecisionMade:
    now = datetime.now(UTC)
    decision = Decision(
        decision_id=f"DEC-{referral_id}", referral_id=referral_id, decided_by="Mo Patel", decided_at=now,
        referral_received_at=now - timedelta(hours=1), rating=BragRating.GREEN, outcome=Outcome.EARLY_HELP,
        receiving_service="early-help", rationale="Needs are met by early help.",
        referrer=Referrer(role="teacher", agency="Hill Primary", name="Anna Crewe", email="anna@example.org"),
        subjects=[Subject(subject_id="S-1", given_name="Maisie", family_name="Hart", date_of_birth=date(2016, 2, 3),
                          address=Address(lines=["1 Lane"], town="Exeter", postcode="EX1 1AA"))],
        handoff_items=[], agencies_consulted=[],
    )
    return DecisionMade.build(decision, correlation_id=referral_id, producer="decision", event_id=uuid.uuid4())


async def test_the_same_decision_published_again_under_new_event_ids_is_followed_once(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    contact = json.loads((DEMO / "contacts" / "scenario-5-quiet-worry.json").read_text(encoding="utf-8"))
    topic, group = intake_settings.topic(DECISION_MADE), intake_settings.group("intake.contact-outcome")
    async with running_intake(intake_settings) as intake:
        accepted = await intake.http.post("/contacts", json=contact)
        assert accepted.status_code == 202, accepted.text
        referral_id = accepted.json()["referral_id"]
        first = _decision(referral_id)
        copies = [DecisionMade.model_validate({**first.model_dump(), "event_id": uuid.uuid4()}) for _ in range(2)]
        for event in [first, *copies]:
            await produce_raw(intake_settings.kafka_bootstrap, topic, event.model_dump_json().encode(),
                              key=referral_id.encode())

        async def all_consumed() -> bool:
            return await _committed(intake_settings.kafka_bootstrap, group, topic) >= 3

        await eventually(all_consumed, timeout=60, what="the decision and its two copies consumed")
        contact_doc = await mongo[intake_settings.mongo_database]["contacts"].find_one({"_id": referral_id})

    assert contact_doc is not None and contact_doc["status"] == "decided"
    decided_lines = [line for line in contact_doc["history"] if line["what"].startswith("decided")]
    assert len(decided_lines) == 1, contact_doc["history"]
