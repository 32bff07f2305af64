"""Contacts over HTTP on the real broker and store: durable accept, safe retries, status, corrections and
the register, with intake running in this process (its real lifespan: consumers and outbox relay)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from mash_intake.settings import IntakeSettings
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
from mash_schemas.common import BragRating, Consent, ConsentStatus, Subject
from mash_schemas.enquiry import Enquiry, EnquiryOpened
from mash_schemas.topics import ENQUIRY_OPENED, REFERRAL_AMENDED, REFERRAL_RECEIVED
from pymongo import AsyncMongoClient

from tests.integration.intake.conftest import DEMO, messages_on, running_intake
from tests.support.topics import Recorded, TopicRecorder, produce_raw
from tests.support.waiting import eventually


def _contact(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEMO / "contacts" / name).read_text(encoding="utf-8"))
    return document


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _events_for(recorder: TopicRecorder, topic: str, referral_id: str) -> list[Recorded]:
    return [r for r in recorder.on(topic) if r.json()["payload"]["referral_id"] == referral_id]


async def _published(recorder: TopicRecorder, topic: str, referral_id: str) -> list[Recorded]:
    async def probe() -> list[Recorded]:
        return _events_for(recorder, topic, referral_id)

    return await eventually(probe, timeout=30, what=f"an event for {referral_id} on {topic}")


async def _outboxes_empty(mongo: AsyncMongoClient[dict[str, Any]], settings: IntakeSettings) -> None:
    """Wait until the relay has published and cleared every outbox entry (nothing more will be sent)."""
    contacts = mongo[settings.mongo_database]["contacts"]

    async def probe() -> bool:
        return await contacts.count_documents({"_outbox_pending": True}) == 0

    await eventually(probe, timeout=30, what="every outbox published and cleared")


async def test_a_contact_is_accepted_stored_and_published_once_however_often_the_client_retries(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    topic = intake_settings.topic(REFERRAL_RECEIVED)
    contact = _contact("scenario-5-quiet-worry.json")
    key = f"school-form-{uuid.uuid4()}"
    async with running_intake(intake_settings) as intake:
        recorder = TopicRecorder(intake_settings.kafka_bootstrap, [topic])
        async with recorder.running():
            first = await intake.http.post("/contacts", json=contact, headers={"Idempotency-Key": key})
            assert first.status_code == 202, first.text
            accepted = first.json()
            referral_id = accepted["referral_id"]
            assert accepted["new"] is True
            assert accepted["status_url"] == f"/contacts/{referral_id}"

            # The referrer's connection dropped: they send the same contact again, in turn and at once.
            again = await intake.http.post("/contacts", json=contact, headers={"Idempotency-Key": key})
            burst_key = f"school-form-{uuid.uuid4()}"
            burst = await asyncio.gather(*[
                intake.http.post("/contacts", json=contact, headers={"Idempotency-Key": burst_key})
                for _ in range(4)
            ])

            # The same key with a different contact is a client mistake, not a retry.
            changed = {**contact, "concern": {**contact["concern"], "narrative": "Another child entirely."}}
            misused = await intake.http.post("/contacts", json=changed, headers={"Idempotency-Key": key})

            await _published(recorder, topic, referral_id)
            burst_id = burst[0].json()["referral_id"]
            await _published(recorder, topic, burst_id)
            await _outboxes_empty(mongo, intake_settings)
            total = await messages_on(intake_settings.kafka_bootstrap, topic)
            records = list(recorder.on(topic))

        stored = await mongo[intake_settings.mongo_database]["contacts"].find_one({"_id": referral_id})

    assert again.status_code == 202
    assert again.json()["referral_id"] == referral_id
    assert again.json()["new"] is False
    assert [r.status_code for r in burst] == [202] * 4
    assert {r.json()["referral_id"] for r in burst} == {burst_id}
    assert sorted(r.json()["new"] for r in burst) == [False, False, False, True]
    assert burst_id != referral_id

    assert misused.status_code == 422
    body = misused.json()
    assert body["error"] == "IdempotencyKeyReused"
    assert [f["field"] for f in body["fields"]] == ["Idempotency-Key"]

    # Two contacts, two events: everything the topic holds, each keyed by its referral.
    assert total == 2
    assert sorted(r.json()["payload"]["referral_id"] for r in records) == sorted([referral_id, burst_id])
    event = next(r for r in records if r.key == referral_id).json()
    assert event["event_type"] == "referral.received"
    assert event["correlation_id"] == referral_id
    assert event["producer"] == "intake"
    referral = event["payload"]
    assert referral["source"] == "api"
    assert referral["subjects"][0]["subject_id"] == "s5-maisie"
    assert referral["concern"]["narrative"] == contact["concern"]["narrative"]
    assert referral["suggested_rating"]["rating"] == "green"
    assert referral["suggested_rating"]["reasons"]

    # Stored as first accepted (the misused key changed nothing), with its outbox published and cleared.
    assert stored is not None
    assert stored["status"] == "received"
    assert stored["referral"]["concern"]["narrative"] == contact["concern"]["narrative"]
    assert stored["_outbox"] == []
    assert [h["what"] for h in stored["history"]] == ["contact received"]


async def test_the_referrer_follows_and_corrects_their_own_contact_until_screening(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    amended_topic = intake_settings.topic(REFERRAL_AMENDED)
    contact = _contact("scenario-5-quiet-worry.json")
    other_contact = _contact("scenario-1-bike-theft.json")
    screener = issue_token(DEVELOPMENT_JWT_SECRET, "Jo Reed (screener)", [Role.SCREENER])
    async with running_intake(intake_settings) as intake:
        recorder = TopicRecorder(intake_settings.kafka_bootstrap, [amended_topic])
        async with recorder.running():
            mine = (await intake.http.post("/contacts", json=contact)).json()
            theirs = (await intake.http.post("/contacts", json=other_contact)).json()
            referral_id, token = mine["referral_id"], mine["status_token"]
            url = f"/contacts/{referral_id}"
            correction = {
                "amended_by": "Mrs Anna Crewe",
                "additional_information": "Maisie told her teacher today that her mum stays in bed all day.",
                "household_added": [{"given_name": "Lee", "family_name": "Holt", "relationship": "father"}],
            }

            status = await intake.http.get(url, headers=_bearer(token))
            staff_view = await intake.http.get(url, headers=_bearer(screener))
            no_token = await intake.http.get(url)
            bad_token = await intake.http.get(url, headers=_bearer("not-a-jwt"))
            wrong_contact = await intake.http.get(url, headers=_bearer(theirs["status_token"]))
            patch_no_token = await intake.http.patch(url, json=correction)
            patch_wrong_contact = await intake.http.patch(url, json=correction,
                                                          headers=_bearer(theirs["status_token"]))
            corrected = await intake.http.patch(url, json=correction, headers=_bearer(token))
            amended = await _published(recorder, amended_topic, referral_id)

            # The manager's desk opens an enquiry: from now on the referrer talks to the hub directly.
            await _open_enquiry(intake_settings, referral_id, contact)

            async def screened() -> httpx.Response | None:
                response = await intake.http.get(url, headers=_bearer(token))
                return response if response.json()["status"] == "enquiry_open" else None

            after_screening = await eventually(screened, timeout=30, what="status enquiry_open")
            too_late = await intake.http.patch(url, json=correction, headers=_bearer(token))
            await _outboxes_empty(mongo, intake_settings)
            amended_total = await messages_on(intake_settings.kafka_bootstrap, amended_topic)

        stored = await mongo[intake_settings.mongo_database]["contacts"].find_one({"_id": referral_id})
        untouched = await mongo[intake_settings.mongo_database]["contacts"].find_one({"_id": theirs["referral_id"]})

    assert status.status_code == 200
    seen = status.json()
    assert seen["referral_id"] == referral_id
    assert seen["status"] == "received"
    assert [h["what"] for h in seen["history"]] == ["contact received"]
    assert "withdrawn" not in status.text  # a status, not the case: no narrative comes back
    assert staff_view.status_code == 200

    assert no_token.status_code == 401
    assert bad_token.status_code == 401
    assert patch_no_token.status_code == 401
    assert wrong_contact.status_code == 403
    assert wrong_contact.json()["error"] == "NotYourContact"
    assert patch_wrong_contact.status_code == 403

    assert corrected.status_code == 202
    assert corrected.json() == {"referral_id": referral_id, "status": "amended"}
    assert len(amended) == 1
    event = amended[0].json()
    assert event["event_type"] == "referral.amended"
    assert amended[0].key == referral_id
    assert event["payload"]["additional_information"] == correction["additional_information"]
    assert event["payload"]["household_added"][0]["given_name"] == "Lee"

    assert [h["what"] for h in after_screening.json()["history"]] == [
        "contact received", "correction added", "MASH enquiry opened"
    ]
    assert too_late.status_code == 409
    assert too_late.json()["error"] == "ContactAlreadyScreened"
    assert amended_total == 1  # the refused correction published nothing

    assert stored is not None
    assert len(stored["amendments"]) == 1
    assert untouched is not None
    assert untouched["amendments"] == []
    assert untouched["status"] == "received"


async def _open_enquiry(settings: IntakeSettings, referral_id: str, contact: dict[str, Any]) -> None:
    """Publish enquiry.opened as the decision service would."""
    enquiry = Enquiry(
        enquiry_id=f"ENQ-{referral_id}",
        referral_id=referral_id,
        rating=BragRating.GREEN,
        agencies=["health", "education"],
        due_at=datetime.now(UTC) + timedelta(hours=8),
        subjects=[Subject.model_validate(s) for s in contact["subjects"]],
        consent=Consent(status=ConsentStatus.GIVEN, recorded_by="Jo Reed (screener)"),
        lawful_basis="Children Act 1989 s17 with consent",
        opened_by="Mo Patel (MASH manager)",
    )
    event = EnquiryOpened.build(enquiry, correlation_id=referral_id, producer="decision")
    await produce_raw(settings.kafka_bootstrap, settings.topic(ENQUIRY_OPENED), event.model_dump_json().encode(),
                      key=referral_id.encode())


async def test_the_imported_register_flags_an_allocated_worker_and_repeat_contacts_are_linked(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    settings = intake_settings.model_copy(update={"register_file": DEMO / "register.csv"})
    topic = settings.topic(REFERRAL_RECEIVED)
    allocated = _contact("scenario-6-already-allocated.json")
    # The same child again, from a nursery that misspells his surname and does not know his NHS number.
    repeat = json.loads(json.dumps(allocated))
    del repeat["subjects"][0]["nhs_number"]
    repeat["subjects"][0]["family_name"] = "Frasier"
    repeat["referrer"] = {"role": "nursery manager", "agency": "Little Shells Nursery", "name": "Pat Gill"}
    unknown = _contact("scenario-5-quiet-worry.json")

    async with running_intake(settings) as intake:
        recorder = TopicRecorder(settings.kafka_bootstrap, [topic])
        async with recorder.running():
            first_id = (await intake.http.post("/contacts", json=allocated)).json()["referral_id"]
            first = (await _published(recorder, topic, first_id))[0].json()["payload"]
            repeat_id = (await intake.http.post("/contacts", json=repeat)).json()["referral_id"]
            second = (await _published(recorder, topic, repeat_id))[0].json()["payload"]
            unknown_id = (await intake.http.post("/contacts", json=unknown)).json()["referral_id"]
            third = (await _published(recorder, topic, unknown_id))[0].json()["payload"]
        register_size = await mongo[settings.mongo_database]["known_people"].count_documents({})

    assert register_size == 18  # every row of demo/register.csv
    [match] = first["matches"]
    assert match["subject_id"] == "s6-noah"
    assert match["person_ref"] == "LA-0004127"
    assert match["confidence"] == 1.0
    assert match["reasons"] == ["NHS number equal"]
    assert match["allocated_worker"] == {
        "name": "Sam Okoye", "team": "Assessment Team East", "email": "sam.okoye@children.eastshire.example"
    }
    assert first["linked_referrals"] == []

    [fuzzy] = second["matches"]
    assert fuzzy["person_ref"] == "LA-0004127"
    assert settings.match_threshold <= fuzzy["confidence"] < 1.0
    assert "date of birth equal" in fuzzy["reasons"]
    assert fuzzy["allocated_worker"]["name"] == "Sam Okoye"
    assert second["linked_referrals"] == [first_id]

    assert third["matches"] == []
    assert third["linked_referrals"] == []
