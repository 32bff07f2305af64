"""One enquiry across four agencies on the real broker and store, with the enquiry service running in
this process and each answering agency running the real agency kit:

- health answers, and its answer reaches the hub twice (as after a kit crash between publish and
  commit): stored once, counted once;
- education answers once;
- probation is down until after the due time: the hub completes without it, then its late answer is
  kept and forwarded as an `enquiry.addendum` (its kit answers the request and both reminders, still
  one addendum);
- youth offending never answers: it is reminded before the due time, and the completion names it.

The desk reads a FixedClock that the test moves to each reminder point and to the due time, so the
reminders and the completion come when the test says, however loaded the machine (with a 15 s window
on the wall clock, a busy CI machine once slept through the second reminder's 2 s).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mash_enquiry.config import load_agencies
from mash_enquiry.settings import EnquirySettings
from mash_runtime.clock import FixedClock
from mash_schemas.topics import (
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    agency_response_topic,
    enquiry_request_topic,
)
from pymongo import AsyncMongoClient

from tests.integration.enquiry.conftest import (
    MANAGER,
    an_enquiry,
    committed,
    enquiry_document,
    kit_settings,
    messages_on,
    namespaced,
    open_enquiry,
    running_desk,
    running_kit,
    true,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import Recorded, TopicRecorder, produce_raw
from tests.support.waiting import eventually

AGENCIES = ["health", "education", "probation", "youth-offending"]
DUE_IN_SECONDS = 4 * 3600.0  # amber; the time passes on the desk's clock, not the wall's


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_duplicate_late_and_silent_agencies(
    infrastructure: Infrastructure, namespace: str, desk_settings: EnquirySettings,
    mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    requests = {agency: namespaced(namespace, enquiry_request_topic(agency)) for agency in AGENCIES}
    responses = {agency: namespaced(namespace, agency_response_topic(agency)) for agency in AGENCIES}
    completed_topic = namespaced(namespace, ENQUIRY_COMPLETED)
    addendum_topic = namespaced(namespace, ENQUIRY_ADDENDUM)
    clock = FixedClock(datetime.now(UTC))
    enquiry = an_enquiry("ref-across-1", AGENCIES, DUE_IN_SECONDS)

    recorder = TopicRecorder(bootstrap, [*requests.values(), *responses.values(), completed_topic, addendum_topic])
    async with running_desk(desk_settings, clock) as desk, recorder.running():
        async with running_kit(kit_settings(infrastructure, namespace, "health")), \
                running_kit(kit_settings(infrastructure, namespace, "education")):
            opened = await open_enquiry(bootstrap, namespace, enquiry)
            # The reminder points the desk fixes from the opening event, as the hub's policy places them.
            first_point, second_point = load_agencies(desk_settings.agencies_file).reminders.reminder_times(
                opened.occurred_at, enquiry.due_at)

            # Health answers; the very same answer is then delivered to the hub a second time.
            await eventually(lambda: true(bool(recorder.on(responses["health"]))), timeout=30,
                             what="health's answer on its response topic")
            first = recorder.on(responses["health"])[0]
            await produce_raw(bootstrap, responses["health"], first.value, key=first.key.encode() if first.key else None)
            health_group = namespaced(namespace, "enquiry.responses.health")

            async def both_health_copies_consumed() -> bool:
                return await committed(bootstrap, health_group, responses["health"]) == 2

            await eventually(both_health_copies_consumed, timeout=30, what="the hub consumed both copies")

            async def answered_so_far() -> list[str] | None:
                status = (await desk.get(f"/enquiries/{enquiry.enquiry_id}", headers=MANAGER)).json()
                return status["answered"] if status["answered"] == ["education", "health"] else None

            await eventually(answered_so_far, timeout=30, what="health and education recorded as answered")

            # The desk's clock reaches each reminder point, then the due time.
            def reminded(number: int) -> bool:
                return all(any(r.json()["payload"]["reminder_number"] == number for r in recorder.on(requests[silent]))
                           for silent in ("probation", "youth-offending"))

            clock.set(first_point)
            await eventually(lambda: true(reminded(1)), timeout=30, what="the first reminders")
            clock.set(second_point)
            await eventually(lambda: true(reminded(2)), timeout=30, what="the second reminders")
            clock.set(enquiry.due_at)
            await eventually(lambda: true(bool(recorder.on(completed_topic))), timeout=30,
                             what="the enquiry completed at the due time")

        # The kits of health and education have stopped; probation's kit starts only now, after completion.
        outcome = recorder.on(completed_topic)[0].json()["payload"]
        assert outcome["enquiry_id"] == enquiry.enquiry_id
        assert outcome["completion"] == "due_time_passed"
        assert outcome["not_answered"] == ["probation", "youth-offending"]
        # Completed when the desk's clock reached the due time: not before it, and on the first sweep after.
        assert _at(outcome["completed_at"]) == enquiry.due_at
        # Health counted once, though its answer arrived twice.
        assert [findings["agency"] for findings in outcome["findings"]] == ["health", "education"]
        assert [sealed["agency"] for sealed in outcome["encrypted"]] == ["health"]  # health marked its item sensitive
        assert outcome["sealed"] == []
        assert len(recorder.on(responses["health"])) == 2
        assert len({r.json()["event_id"] for r in recorder.on(responses["health"])}) == 1

        # Reminders went to the two agencies that had not answered, before the due time, not to the others.
        def reminders(agency: str) -> list[Recorded]:
            return [r for r in recorder.on(requests[agency]) if r.json()["payload"]["reminder_number"] >= 1]

        for silent in ("probation", "youth-offending"):
            sent = reminders(silent)
            assert [r.json()["payload"]["reminder_number"] for r in sent] == [1, 2], silent
            assert all(_at(r.json()["occurred_at"]) < enquiry.due_at for r in sent), silent
            # A reminder is the same request again: same request id as the original.
            assert {r.json()["payload"]["request_id"] for r in recorder.on(requests[silent])} == {
                recorder.on(requests[silent])[0].json()["payload"]["request_id"]}
        assert reminders("health") == [] and reminders("education") == []

        # Probation's kit comes up late and reads its request and both reminders: three answers, one
        # event id; the hub keeps the first as a late answer and forwards it once as an addendum.
        async with running_kit(kit_settings(infrastructure, namespace, "probation")):
            probation_group = namespaced(namespace, "enquiry.responses.probation")

            async def late_answers_consumed() -> bool:
                return await committed(bootstrap, probation_group, responses["probation"]) == 3

            await eventually(late_answers_consumed, timeout=30, what="the hub consumed probation's three answers")
            await eventually(lambda: true(bool(recorder.on(addendum_topic))), timeout=30, what="an addendum")
            status = (await desk.get(f"/enquiries/{enquiry.enquiry_id}", headers=MANAGER)).json()

            async def outbox_published() -> bool:
                document = await enquiry_document(mongo, namespace, enquiry.enquiry_id)
                return document is not None and document["_outbox"] == []

            await eventually(outbox_published, timeout=30, what="everything the desk queued published")
            # Counted on the broker itself, after the desk has nothing left to send.
            assert await messages_on(bootstrap, addendum_topic) == 1
            assert await messages_on(bootstrap, completed_topic) == 1

    assert len({r.json()["event_id"] for r in recorder.on(responses["probation"])}) == 1
    addenda = recorder.on(addendum_topic)
    assert len(addenda) == 1
    addendum = addenda[0].json()
    assert addendum["event_type"] == "enquiry.addendum"
    assert addendum["correlation_id"] == enquiry.referral_id
    assert addendum["payload"]["enquiry_id"] == enquiry.enquiry_id
    assert addendum["payload"]["findings"]["agency"] == "probation"
    assert [item["item_id"] for item in addendum["payload"]["findings"]["items"]] == ["prob-s1-001", "prob-s1-002"]
    assert len(recorder.on(completed_topic)) == 1  # the late answer did not complete the enquiry again

    assert status["state"] == "completed"
    assert status["answered"] == ["education", "health"]
    assert status["answered_late"] == ["probation"]
    assert status["not_answered"] == ["youth-offending"]
    assert status["reminders"] == {"health": 0, "education": 0, "probation": 2, "youth-offending": 2}

    document = await enquiry_document(mongo, namespace, enquiry.enquiry_id)
    assert document is not None
    assert sorted(document["responses"]) == ["education", "health"]
    assert sorted(document["late_responses"]) == ["probation"]
    assert document["state"] == "completed"

