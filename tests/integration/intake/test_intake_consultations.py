"""Consultations on the real broker and store: recorded by hub staff, published once as consultation.recorded,
no referral opened; a retry with the same key is the same consultation."""

from __future__ import annotations

from typing import Any

from mash_intake.settings import IntakeSettings
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
from mash_schemas.consultation import ConsultationRecorded
from mash_schemas.topics import CONSULTATION_RECORDED, REFERRAL_RECEIVED

from tests.integration.intake.conftest import messages_on, running_intake
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

CONSULTATION: dict[str, Any] = {
    "asked_by": {"name": "Sam Reid", "role": "designated safeguarding lead", "organisation": "Hilltop Primary",
                 "sector": "education"},
    "categories": ["neglect"],
    "question": "A pupil often arrives hungry; should we refer?",
    "advice": "Speak to the parent and offer Early Help; refer if it continues.",
    "led_to_contact": False,
}


async def test_a_consultation_is_recorded_and_published_once_without_opening_a_referral(
    intake_settings: IntakeSettings,
) -> None:
    topic = intake_settings.topic(CONSULTATION_RECORDED)
    staff = {"Authorization": "Bearer " + issue_token(DEVELOPMENT_JWT_SECRET, "screener-1", [Role.SCREENER]),
             "Idempotency-Key": "consultation-key-0001"}
    referrer = {"Authorization": "Bearer " + issue_token(DEVELOPMENT_JWT_SECRET, "MASH-X", [Role.REFERRER])}
    async with running_intake(intake_settings) as intake, TopicRecorder(
        intake_settings.kafka_bootstrap, [topic]
    ).running() as recorder:
        first = await intake.http.post("/consultations", json=CONSULTATION, headers=staff)
        again = await intake.http.post("/consultations", json=CONSULTATION, headers=staff)
        refused = await intake.http.post("/consultations", json=CONSULTATION, headers=referrer)
        assert first.status_code == 202, first.text
        assert again.json() == {**first.json(), "new": False}
        assert refused.status_code == 403

        async def published() -> list[ConsultationRecorded]:
            return [ConsultationRecorded.model_validate_json(r.value) for r in recorder.on(topic)]

        events = await eventually(published, timeout=30, what="consultation.recorded published")
        assert len(events) == 1
        consultation = events[0].payload
        assert consultation.consultation_id == first.json()["consultation_id"]
        assert consultation.asked_by.sector.value == "education"
        assert consultation.recorded_by == "screener-1"
        assert not consultation.led_to_contact
        assert await messages_on(intake_settings.kafka_bootstrap, intake_settings.topic(REFERRAL_RECEIVED)) == 0
