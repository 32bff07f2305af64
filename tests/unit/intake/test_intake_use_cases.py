"""Intake's use cases (mash_intake.front_door) through its real bootstrap: a contact accepted is one
referral.received however often it is retried; an invalid contact is refused naming the field; a repeat
contact is matched to the register and linked to the earlier one; the steps the hub takes are shown once.

The scenarios run in memory here (MemoryDatabase, TestKafkaBroker) and on the real broker and store in
tests/integration/intake/test_intake_use_cases_real.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mash_intake.bootstrap import IntakeService, bootstrap
from mash_intake.settings import IntakeSettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_schemas import Address, BragRating, Decision, DecisionMade, Outcome, Referrer, Subject
from mash_schemas.common import Consent, ConsentStatus
from mash_schemas.enquiry import Enquiry, EnquiryOpened
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, REFERRAL_RECEIVED
from pymongo import InsertOne

from tests.support.service_harness import InMemory, RunningService
from tests.unit.intake.intake_builders import submission_payload

DEMO = Path(__file__).resolve().parents[3] / "demo"
ALLOCATED_CHILD = "LA-0004127"  # Noah, on demo/register.csv with an allocated worker


def demo_contact(name: str) -> dict[str, Any]:
    """One of the demo's contacts (demo/contacts)."""
    contact: dict[str, Any] = json.loads((DEMO / "contacts" / name).read_text(encoding="utf-8"))
    return contact


def staff(hub: RunningService[IntakeService]) -> dict[str, str]:
    """A screener's bearer token."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), "Jo Reed", [Role.SCREENER])
    return {"Authorization": f"Bearer {token}"}


async def received(hub: RunningService[IntakeService], referral_id: str) -> list[dict[str, Any]]:
    """Wait for referral.received of `referral_id`; every one published."""
    return await hub.eventually(
        lambda: [e for e in hub.published(REFERRAL_RECEIVED) if e["payload"]["referral_id"] == referral_id] or None)


def decision(referral_id: str, decision_id: str, hub: RunningService[IntakeService]) -> DecisionMade:
    """The desk's decision `decision_id` on the referral (early help)."""
    now = hub.clock()
    payload = Decision(
        decision_id=decision_id, referral_id=referral_id, decided_by="Mo Patel", decided_at=now,
        referral_received_at=now - timedelta(hours=1), rating=BragRating.GREEN, outcome=Outcome.EARLY_HELP,
        receiving_service="early-help", rationale="Needs are met by early help.",
        referrer=Referrer(role="teacher", agency="Hill Primary", name="Anna Crewe", email="anna@example.org"),
        subjects=[Subject(subject_id="S-1", given_name="Maisie", family_name="Hart",
                          address=Address(lines=["1 Lane"], town="Exeter", postcode="EX1 1AA"))],
        handoff_items=[], agencies_consulted=[],
    )
    return DecisionMade.build(payload, correlation_id=referral_id, producer="decision", event_id=uuid.uuid4())


def enquiry_opened(referral_id: str, contact: dict[str, Any], hub: RunningService[IntakeService]) -> EnquiryOpened:
    """Screening opened an enquiry on the referral."""
    enquiry = Enquiry(
        enquiry_id=f"ENQ-{referral_id}", referral_id=referral_id, rating=BragRating.GREEN,
        agencies=["health", "education"], due_at=hub.clock() + timedelta(hours=8),
        subjects=[Subject.model_validate(s) for s in contact["subjects"]],
        consent=Consent(status=ConsentStatus.GIVEN, recorded_by="Jo Reed (screener)"),
        lawful_basis="Children Act 1989 s17 with consent", opened_by="Mo Patel (MASH manager)",
    )
    return EnquiryOpened.build(enquiry, correlation_id=referral_id, producer="decision")


class IntakeScenarios:
    """What the front door does, wherever it runs."""

    async def test_a_contact_accepted_becomes_one_referral_received_however_often_it_is_sent(
        self, hub: RunningService[IntakeService]
    ) -> None:
        key = {"Idempotency-Key": f"form-{uuid.uuid4()}"}
        first = await hub.http.post("/contacts", json=submission_payload(), headers=key)
        again = await hub.http.post("/contacts", json=submission_payload(), headers=key)

        assert (first.status_code, again.status_code) == (202, 202)
        referral_id = first.json()["referral_id"]
        assert again.json()["referral_id"] == referral_id
        assert (first.json()["new"], again.json()["new"]) == (True, False)
        (event,) = await received(hub, referral_id)
        assert event["payload"]["received_at"].startswith(hub.clock().isoformat()[:19])

        token = {"Authorization": f"Bearer {first.json()['status_token']}"}
        status = (await hub.http.get(f"/contacts/{referral_id}", headers=token)).json()
        assert status["status"] == "received"
        assert [line["what"] for line in status["history"]] == ["contact received"]

        other = await hub.http.post("/contacts", json=submission_payload(household=[]), headers=key)
        assert other.status_code == 422 and other.json()["error"] == "IdempotencyKeyReused"

    async def test_every_read_of_a_contacts_status_is_audited_and_a_refused_one_reads_nothing(
        self, hub: RunningService[IntakeService]
    ) -> None:
        mine, theirs = [(await hub.http.post("/contacts", json=submission_payload())).json() for _ in range(2)]
        referrer = {"Authorization": f"Bearer {mine['status_token']}"}

        assert (await hub.http.get(f"/contacts/{mine['referral_id']}", headers=referrer)).status_code == 200
        assert (await hub.http.get(f"/contacts/{mine['referral_id']}", headers=staff(hub))).status_code == 200
        refused = await hub.http.get(f"/contacts/{theirs['referral_id']}", headers=referrer)

        assert refused.status_code == 403
        audit = hub.database["audit"]
        records = await audit.find({"referral_id": mine["referral_id"]}).to_list()
        # Sorted, not in time order: the scenario's clock may give both reads the same time.
        assert sorted((r["action"], r["who"], r["roles"], r["why"]) for r in records) == [
            ("view_contact_status", "Jo Reed", "screener", "hub staff checking a contact"),
            ("view_contact_status", mine["referral_id"], "referrer", "the referrer checking their contact"),
        ]
        assert await audit.count_documents({"referral_id": theirs["referral_id"]}) == 0

    async def test_each_contact_records_the_channel_it_came_by(self, hub: RunningService[IntakeService]) -> None:
        by_api = await hub.http.post("/contacts", json=submission_payload())
        by_form = await hub.http.post("/contacts", json=submission_payload(), headers={"Contact-Channel": "web_form"})
        refused = await hub.http.post("/contacts", json=submission_payload(),
                                      headers={"Contact-Channel": "police_notification"})

        assert (by_api.status_code, by_form.status_code) == (202, 202)
        for answer, channel in ((by_api, "api"), (by_form, "web_form")):
            (event,) = await received(hub, answer.json()["referral_id"])
            assert event["payload"]["source"] == channel
        assert refused.status_code == 422, "police notifications come by event, never over HTTP"
        assert "Contact-Channel" in [f["field"] for f in refused.json()["fields"]]

    async def test_an_invalid_contact_is_refused_naming_the_field(self, hub: RunningService[IntakeService]) -> None:
        payload = submission_payload()
        payload["subjects"][0]["date_of_birth"] = "the first of June"

        refused = await hub.http.post("/contacts", json=payload)

        assert refused.status_code == 422
        assert "subjects.0.date_of_birth" in [f["field"] for f in refused.json()["fields"]]
        assert await hub.database["contacts"].count_documents({}) == 0

    async def test_a_repeat_contact_is_matched_to_the_register_and_linked_to_the_earlier_one(
        self, hub: RunningService[IntakeService]
    ) -> None:
        allocated = demo_contact("scenario-6-already-allocated.json")
        # The same child again, from a nursery that misspells his surname and does not know his NHS number.
        repeat = json.loads(json.dumps(allocated))
        del repeat["subjects"][0]["nhs_number"]
        repeat["subjects"][0]["family_name"] = "Frasier"

        first_id = (await hub.http.post("/contacts", json=allocated)).json()["referral_id"]
        (first,) = await received(hub, first_id)
        hub.clock.advance(days=3)
        repeat_id = (await hub.http.post("/contacts", json=repeat)).json()["referral_id"]
        (second,) = await received(hub, repeat_id)

        [match] = first["payload"]["matches"]
        assert (match["person_ref"], match["confidence"]) == (ALLOCATED_CHILD, 1.0)
        assert match["allocated_worker"]["name"] == "Sam Okoye"
        assert first["payload"]["linked_referrals"] == []
        [fuzzy] = second["payload"]["matches"]
        assert fuzzy["person_ref"] == ALLOCATED_CHILD and fuzzy["confidence"] < 1.0
        assert second["payload"]["linked_referrals"] == [first_id]

    async def test_each_step_the_hub_takes_is_shown_once_and_closes_corrections(
        self, hub: RunningService[IntakeService]
    ) -> None:
        contact = submission_payload()
        accepted = (await hub.http.post("/contacts", json=contact)).json()
        referral_id = accepted["referral_id"]
        referrer = {"Authorization": f"Bearer {accepted['status_token']}"}
        await received(hub, referral_id)

        async def status_is(wanted: str, lines: int) -> dict[str, Any] | None:
            status = (await hub.http.get(f"/contacts/{referral_id}", headers=staff(hub))).json()
            return status if status["status"] == wanted and len(status["history"]) == lines else None

        await hub.publish(enquiry_opened(referral_id, contact, hub), ENQUIRY_OPENED)
        await hub.eventually(lambda: status_is("enquiry_open", 2))
        correction = {"amended_by": "Ann Teacher", "additional_information": "Mia's father has moved back in."}
        too_late = await hub.http.patch(f"/contacts/{referral_id}", json=correction, headers=referrer)
        assert too_late.status_code == 409 and too_late.json()["error"] == "ContactAlreadyScreened"

        decided = decision(referral_id, f"DEC-{referral_id}", hub)
        await hub.publish(decided, DECISION_MADE)
        # The same decision copied under a new event id, then (on the same partition, so after it) a second one.
        await hub.publish(decided.model_copy(update={"event_id": uuid.uuid4()}), DECISION_MADE)
        await hub.publish(decision(referral_id, f"DEC2-{referral_id}", hub), DECISION_MADE)

        status = await hub.eventually(lambda: status_is("decided", 4))
        assert [line["what"] for line in status["history"]] == [
            "contact received", "MASH enquiry opened", "decided: early_help", "decided: early_help"]
        assert status["outcome"] == "early_help"


class GroupCommitScenarios(IntakeScenarios):
    """Every scenario again with the front door's group commit on, and what it is for."""

    async def test_contacts_arriving_together_are_stored_together_and_each_answered_once_stored(
        self, hub: RunningService[IntakeService]
    ) -> None:
        contacts = hub.service.store.contacts.collection  # the store's own (a database hands out a new one each time)
        writes: list[int] = []
        bulk_write = contacts.bulk_write

        async def counted(requests: Any, *args: Any, **kwargs: Any) -> Any:
            requests = list(requests)
            if any(isinstance(request, InsertOne) for request in requests):  # not the relay's clears
                writes.append(len(requests))
            return await bulk_write(requests, *args, **kwargs)

        contacts.bulk_write = counted  # type: ignore[method-assign]
        keys = [f"form-{uuid.uuid4()}" for _ in range(6)]
        answers = await asyncio.gather(*(hub.http.post("/contacts", json=submission_payload(),
                                                       headers={"Idempotency-Key": key}) for key in keys))
        assert [answer.status_code for answer in answers] == [202] * 6
        ids = [answer.json()["referral_id"] for answer in answers]
        # Answered only once stored: each contact is there, with its referral.received waiting in it or sent.
        for referral_id in ids:
            assert await contacts.find_one({"_id": referral_id}) is not None
        assert sum(writes) == 6 and len(writes) < 6
        # A retry under a key of the group is recognised as before.
        again = await hub.http.post("/contacts", json=submission_payload(), headers={"Idempotency-Key": keys[0]})
        assert (again.status_code, again.json()["referral_id"], again.json()["new"]) == (202, ids[0], False)
        for referral_id in ids:
            assert len(await received(hub, referral_id)) == 1


class TestIntakeInMemory(InMemory[IntakeService], IntakeScenarios):
    """Intake's use cases in memory."""

    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    settings_overrides = {"register_file": DEMO / "register.csv"}
    outputs = (REFERRAL_RECEIVED,)


class TestIntakeInMemoryWithGroupCommit(InMemory[IntakeService], GroupCommitScenarios):
    """Intake's use cases in memory, contacts arriving together stored together (MASH_INTAKE_GROUP_COMMIT_MS)."""

    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    settings_overrides = {"register_file": DEMO / "register.csv", "group_commit_ms": 20.0}
    outputs = (REFERRAL_RECEIVED,)


pytestmark = pytest.mark.unit
