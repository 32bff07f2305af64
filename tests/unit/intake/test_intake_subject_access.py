"""Intake's part of a subject access request (issue 15), through its real bootstrap in memory: the contacts
naming the person, everyone else they name marked as third parties, a namesake born on another day left out."""

from __future__ import annotations

from datetime import date

import pytest
from mash_intake.bootstrap import IntakeService, bootstrap
from mash_intake.settings import IntakeSettings
from mash_schemas.subject_access import PersonIdentifiers, SubjectAccessRequest, SubjectAccessRequested
from mash_schemas.topics import SUBJECT_ACCESS_PART, SUBJECT_ACCESS_REQUESTED

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.intake.intake_builders import submission_payload

Hub = RunningService[IntakeService]
pytestmark = pytest.mark.unit


def requested(request_id: str, born: date) -> SubjectAccessRequested:
    """Decision's request about Mia Hughes (no case-system reference, no referral known)."""
    request = SubjectAccessRequest(
        request_id=request_id, person=PersonIdentifiers(given_name="Mia", family_name="Hughes", date_of_birth=born),
        received_at=MONDAY_MORNING, due_at=MONDAY_MORNING, requested_by="Max")
    return SubjectAccessRequested.build(request, correlation_id=request_id, producer="decision")


class IntakeSubjectAccessScenarios:
    """Intake's part, wherever the service runs."""

    async def test_its_part_holds_the_contacts_naming_the_person_and_marks_third_parties(self, hub: Hub) -> None:
        accepted = await hub.http.post("/contacts", json=submission_payload())
        assert accepted.status_code == 202
        rid = accepted.json()["referral_id"]
        await hub.publish(requested("SAR-I1", date(2017, 6, 1)), SUBJECT_ACCESS_REQUESTED, key="SAR-I1")
        await hub.publish(requested("SAR-I2", date(2016, 1, 1)), SUBJECT_ACCESS_REQUESTED, key="SAR-I2")
        parts = await hub.eventually(lambda: hub.published(SUBJECT_ACCESS_PART)
                                     if len(hub.published(SUBJECT_ACCESS_PART)) >= 2 else None)
        by_request = {p["payload"]["request_id"]: p["payload"] for p in parts}
        mia = by_request["SAR-I1"]
        assert mia["service"] == "intake" and mia["withheld"] == []
        assert [(i["item_id"], i["kind"], i["third_parties"]) for i in mia["items"]] == [
            (rid, "contact", ["Jo Hughes", "Ann Teacher (referrer)"])]
        assert "Mia has seemed withdrawn in class" in mia["items"][0]["summary"]
        assert by_request["SAR-I2"]["items"] == []  # a namesake born on another day is not given away
        searches = [r async for r in hub.database["audit"].find({"action": "subject_access.search"})]
        assert sorted((r["who"], r["why"]) for r in searches) == [
            ("Max", "subject access request SAR-I1"), ("Max", "subject access request SAR-I2")]


class TestIntakeSubjectAccessInMemory(InMemory[IntakeService], IntakeSubjectAccessScenarios):
    """Intake's part on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    outputs = (SUBJECT_ACCESS_PART,)
