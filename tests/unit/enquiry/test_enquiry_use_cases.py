"""The research desk (research_desk.py) through the enquiry service's real bootstrap: fan-out to completion.

`EnquiryScenarios` holds the use cases; `TestEnquiryInMemory` runs them on a MemoryDatabase and
TestKafkaBroker (no server), tests/integration/enquiry/test_enquiry_use_cases_real.py on the real broker
and store. Reminders and the due time are reached by moving the FixedClock and calling the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from mash_enquiry.bootstrap import EnquiryService, bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_runtime.transit import DEVELOPMENT_TRANSIT_PRIVATE_KEY, TransitOpener
from mash_schemas import AgencyResponse, EncryptedItem, InformationItem
from mash_schemas.agency import AgencyResponded, agency_producer_name, agency_response_event_id
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.topics import (
    DEAD_LETTER,
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    agency_response_topic,
    enquiry_request_topic,
)

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.enquiry.enquiry_builders import an_answer, an_enquiry, sensitive, shareable

Hub = RunningService[EnquiryService]
AGENCIES = ["police", "health", "education"]
DUE_AT = MONDAY_MORNING + timedelta(hours=10)  # default reminder points: half-way (+5 h) and 85 % (+8.5 h)
SECRET = "Police intelligence: the mother's partner is suspected of sexual offences, not convicted."
OUTPUTS = (*(enquiry_request_topic(agency) for agency in AGENCIES), ENQUIRY_COMPLETED, ENQUIRY_ADDENDUM,
           DEAD_LETTER)


# --- what the tests send, as the decision service and the agencies would ------------------------------------


def opened(enquiry_id: str, agencies: list[str] | None = None) -> EnquiryOpened:
    """The manager's desk opened an enquiry at the fixed clock's start, due ten hours later."""
    enquiry = an_enquiry(agencies or AGENCIES, enquiry_id=enquiry_id, referral_id=f"REF-{enquiry_id}", due_at=DUE_AT)
    return EnquiryOpened.build(enquiry, correlation_id=enquiry.referral_id, producer="decision",
                               occurred_at=MONDAY_MORNING)


def answer(hub: Hub, enquiry_id: str, agency: str, items: list[InformationItem] | None = None,
           **changes: Any) -> AgencyResponded:
    """`agency`'s answer, as its kit sends it (the kit's event id: one answer per request)."""
    response: AgencyResponse = an_answer(agency, items, at=hub.clock(), enquiry_id=enquiry_id,
                                         referral_id=f"REF-{enquiry_id}", **changes)
    return AgencyResponded.build(response, correlation_id=response.referral_id,
                                 producer=agency_producer_name(response.agency),
                                 event_id=agency_response_event_id(response.request_id, response.agency),
                                 occurred_at=hub.clock())


def as_(hub: Hub, role: Role) -> dict[str, str]:
    """A bearer header for a member of hub staff in `role`."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), f"Sam ({role.value})", [role])
    return {"Authorization": f"Bearer {token}"}


def portal_user(hub: Hub, agency: str) -> dict[str, str]:
    """A bearer header for a user of `agency` on the agency portal."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), f"Pat ({agency})", [Role.AGENCY], agency=agency)
    return {"Authorization": f"Bearer {token}"}


async def progress(hub: Hub, enquiry_id: str) -> dict[str, Any] | None:
    """The enquiry's progress as hub staff see it, or None while there is none."""
    response = await hub.http.get(f"/enquiries/{enquiry_id}", headers=as_(hub, Role.MANAGER))
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def progress_where(hub: Hub, enquiry_id: str, condition: Any) -> dict[str, Any]:
    """Wait until the enquiry's progress satisfies `condition`."""
    async def probe() -> dict[str, Any] | None:
        found = await progress(hub, enquiry_id)
        return found if found is not None and condition(found) else None

    return await hub.eventually(probe)


def about(hub: Hub, base_topic: str, enquiry_id: str) -> list[dict[str, Any]]:
    """The events the service published on `base_topic` about one enquiry, each once, as a consumer keeps them.

    The outbox relay publishes at least once and consumers skip an event id they have seen, so repeats are
    dropped here as a consumer would drop them.
    """
    kept: dict[str, dict[str, Any]] = {}
    for event in hub.published(base_topic):
        if event["payload"].get("enquiry_id") == enquiry_id:
            kept.setdefault(event["event_id"], event)
    return list(kept.values())


async def dead_letter(hub: Hub, base_topic: str, reason: str) -> dict[str, Any]:
    """Wait for the dead letter of a record from `base_topic` whose reason contains `reason`."""
    return await hub.dead_letter(base_topic, reason)


class EnquiryScenarios:
    """The research desk's use cases, wherever the service runs."""

    async def test_an_enquiry_fans_out_one_minimised_request_to_each_agencys_own_topic(self, hub: Hub) -> None:
        event = opened("ENQ-UC-1")
        await hub.publish(event, ENQUIRY_OPENED)
        await hub.publish(event, ENQUIRY_OPENED)  # redelivered: fanned out once

        def requests_to(agency: str) -> Callable[[], list[dict[str, Any]]]:
            return lambda: about(hub, enquiry_request_topic(agency), "ENQ-UC-1")

        requests = {agency: await hub.eventually(requests_to(agency)) for agency in AGENCIES}
        await hub.flush()
        assert {agency: len(about(hub, enquiry_request_topic(agency), "ENQ-UC-1")) for agency in AGENCIES} == {
            "police": 1, "health": 1, "education": 1}
        assert {agency: found[0]["payload"]["agency"] for agency, found in requests.items()} == {
            agency: agency for agency in AGENCIES}
        # Data minimisation: only health receives the NHS number.
        assert requests["health"][0]["payload"]["subjects"][0]["nhs_number"] == "9434765919"
        assert requests["police"][0]["payload"]["subjects"][0]["nhs_number"] is None
        status = await progress_where(hub, "ENQ-UC-1", lambda found: True)
        assert status["not_answered"] == AGENCIES
        assert status["state"] == "open"

    async def test_each_answer_is_applied_once_and_the_last_one_completes_the_enquiry(self, hub: Hub) -> None:
        await hub.publish(opened("ENQ-UC-2"), ENQUIRY_OPENED)
        await progress_where(hub, "ENQ-UC-2", lambda found: True)
        police = answer(hub, "ENQ-UC-2", "police", [shareable("p1", "Call-out to the address in January.")])
        await hub.publish(police, agency_response_topic("police"))
        await hub.publish(police, agency_response_topic("police"))
        await progress_where(hub, "ENQ-UC-2", lambda found: found["answered"] == ["police"])
        hub.clock.advance(hours=1)
        for agency in ("health", "education"):
            await hub.publish(answer(hub, "ENQ-UC-2", agency), agency_response_topic(agency))

        [completed] = await hub.eventually(lambda: about(hub, ENQUIRY_COMPLETED, "ENQ-UC-2"))
        outcome = completed["payload"]
        assert outcome["completion"] == "all_answered"
        assert outcome["not_answered"] == []
        assert outcome["completed_at"].startswith(hub.clock().isoformat()[:19])
        assert [f["agency"] for f in outcome["findings"]] == AGENCIES
        assert [i["item_id"] for i in outcome["findings"][0]["items"]] == ["p1"]
        status = await progress_where(hub, "ENQ-UC-2", lambda found: found["state"] == "completed")
        assert status["answered"] == sorted(AGENCIES)

    async def test_a_misaddressed_answer_is_dead_lettered_and_changes_nothing(self, hub: Hub) -> None:
        await hub.publish(opened("ENQ-UC-3"), ENQUIRY_OPENED)
        await progress_where(hub, "ENQ-UC-3", lambda found: True)

        # health's answer on police's topic: the topic says who is speaking, so it is refused
        await hub.publish(answer(hub, "ENQ-UC-3", "health"), agency_response_topic("police"))
        wrong_topic = await dead_letter(hub, agency_response_topic("police"), "arrived on the topic of agency")
        assert wrong_topic["error_type"] == "rejected"
        # an answer naming another enquiry's request
        await hub.publish(answer(hub, "ENQ-UC-3", "education", request_id="req-someone-else"),
                          agency_response_topic("education"))
        other_request = await dead_letter(hub, agency_response_topic("education"), "req-someone-else")
        assert other_request["error_type"] == "rejected"

        status = await progress(hub, "ENQ-UC-3")
        assert status is not None
        assert status["answered"] == []
        assert status["not_answered"] == AGENCIES

    async def test_agencies_are_reminded_and_the_enquiry_completes_at_its_due_time(self, hub: Hub) -> None:
        await hub.publish(opened("ENQ-UC-4"), ENQUIRY_OPENED)
        await progress_where(hub, "ENQ-UC-4", lambda found: True)
        await hub.publish(answer(hub, "ENQ-UC-4", "police"), agency_response_topic("police"))
        await progress_where(hub, "ENQ-UC-4", lambda found: found["answered"] == ["police"])
        sweep = hub.service.desk.sweep

        await sweep()  # nothing due yet
        hub.clock.set(MONDAY_MORNING + timedelta(hours=5))
        await sweep()
        await sweep()
        reminded = await progress_where(hub, "ENQ-UC-4", lambda found: found["reminders"]["health"] == 1)
        assert reminded["reminders"] == {"police": 0, "health": 1, "education": 1}
        reminders = await hub.eventually(lambda: [r for r in about(hub, enquiry_request_topic("health"), "ENQ-UC-4")
                                                  if r["payload"]["reminder_number"] == 1])
        assert len(reminders) == 1

        hub.clock.set(DUE_AT)
        await sweep()
        [completed] = await hub.eventually(lambda: about(hub, ENQUIRY_COMPLETED, "ENQ-UC-4"))
        assert completed["payload"]["completion"] == "due_time_passed"
        assert completed["payload"]["not_answered"] == ["health", "education"]
        await sweep()  # completing again publishes nothing more
        await hub.flush()
        assert len(about(hub, ENQUIRY_COMPLETED, "ENQ-UC-4")) == 1

        # health answers late: kept, and forwarded as an addendum
        hub.clock.advance(minutes=30)
        await hub.publish(answer(hub, "ENQ-UC-4", "health"), agency_response_topic("health"))
        [late] = await hub.eventually(lambda: about(hub, ENQUIRY_ADDENDUM, "ENQ-UC-4"))
        assert late["payload"]["findings"]["agency"] == "health"

    async def test_a_sensitive_item_stays_sealed_in_the_store_and_travels_only_encrypted(self, hub: Hub) -> None:
        await hub.publish(opened("ENQ-UC-5", ["police"]), ENQUIRY_OPENED)
        await progress_where(hub, "ENQ-UC-5", lambda found: True)
        police = answer(hub, "ENQ-UC-5", "police", [shareable("p1", "Call-out to the address in January."),
                                                     sensitive("p2", SECRET)])
        await hub.publish(police, agency_response_topic("police"))

        [completed] = await hub.eventually(lambda: about(hub, ENQUIRY_COMPLETED, "ENQ-UC-5"))
        assert SECRET not in str(completed)
        assert [i["item_id"] for i in completed["payload"]["findings"][0]["items"]] == ["p1"]
        [encrypted] = completed["payload"]["encrypted"]
        opened_item = TransitOpener([DEVELOPMENT_TRANSIT_PRIVATE_KEY]).open(
            "REF-ENQ-UC-5", EncryptedItem.model_validate(encrypted))
        assert opened_item.summary == SECRET  # only the decision service's key opens it

        stored = await hub.database["enquiries"].find_one({"_id": "ENQ-UC-5"})
        assert stored is not None
        assert SECRET not in str(stored)
        [sealed_entry] = [i for i in stored["responses"]["police"]["items"] if "sealed" in i]
        assert sealed_entry["item_id"] == "p2"
        assert SECRET not in str(await progress(hub, "ENQ-UC-5"))


    async def test_an_agency_without_it_integration_answers_once_on_the_portal(self, hub: Hub) -> None:
        await hub.publish(opened("ENQ-UC-6", ["education"]), ENQUIRY_OPENED)
        await progress_where(hub, "ENQ-UC-6", lambda found: True)
        school = portal_user(hub, "education")
        path = "/agencies/education/requests"

        [request] = (await hub.http.get(path, headers=school)).json()
        assert request["enquiry_id"] == "ENQ-UC-6"
        assert (await hub.http.get(path, headers=portal_user(hub, "police"))).status_code == 403
        form = {"outcome": "nothing_known"}
        sent = await hub.http.post(f"{path}/ENQ-UC-6/response", json=form, headers=school)
        assert sent.status_code == 202, sent.text
        again = await hub.http.post(f"{path}/ENQ-UC-6/response", json=form, headers=school)
        assert again.status_code == 409, again.text
        assert (await hub.http.post(f"{path}/ENQ-UC-NONE/response", json=form, headers=school)).status_code == 404

        # The answer goes out on the agency's own topic, as its kit's would, and the desk takes it from there.
        [completed] = await hub.eventually(lambda: about(hub, ENQUIRY_COMPLETED, "ENQ-UC-6"))
        assert completed["payload"]["findings"][0]["outcome"] == "nothing_known"
        assert (await hub.http.get(path, headers=school)).json() == []

    async def test_an_agencys_own_safety_scale_reaches_the_desk_with_its_findings(self, hub: Hub) -> None:
        await hub.publish(opened("ENQ-UC-7", ["education"]), ENQUIRY_OPENED)
        await progress_where(hub, "ENQ-UC-7", lambda found: True)
        form = {"outcome": "nothing_known", "safety_scale": 7}
        sent = await hub.http.post("/agencies/education/requests/ENQ-UC-7/response", json=form,
                                   headers=portal_user(hub, "education"))
        assert sent.status_code == 202, sent.text
        [completed] = await hub.eventually(lambda: about(hub, ENQUIRY_COMPLETED, "ENQ-UC-7"))
        assert completed["payload"]["findings"][0]["safety_scale"] == 7


class TestEnquiryInMemory(InMemory[EnquiryService], EnquiryScenarios):
    """The research desk's use cases on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    outputs = OUTPUTS


pytestmark = pytest.mark.unit
