"""The enquiry record: answers once, late answers as addenda, reminders, completion and its document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mash_enquiry.config import load_agencies
from mash_enquiry.domain.enquiry_record import (
    Accepted,
    Duplicate,
    EnquiryRecord,
    EnquiryState,
    Late,
    Rejected,
)
from mash_enquiry.domain.exceptions import CompletionNotDue, UnknownAgency
from mash_enquiry.domain.reminders import BeforeDuePoint, ElapsedPoint, ReminderPolicy
from mash_enquiry.store import record_document, record_from_document
from mash_runtime.sealing import AtRestCipher, SealBroken
from mash_schemas import BragRating

from tests.unit.enquiry.enquiry_builders import (
    DUE_AT,
    ENQUIRY_ID,
    OPENED_AT,
    an_answer,
    an_enquiry,
    sensitive,
    shareable,
)

pytestmark = pytest.mark.unit

HALF_WAY = OPENED_AT + timedelta(hours=5)  # 50% of the ten-hour window
EIGHTY_FIVE = OPENED_AT + timedelta(hours=8, minutes=30)  # 85%
SECRET = "Intelligence: partner suspected of offences against children, not convicted"


def a_record(agencies: list[str] | None = None, policy: ReminderPolicy | None = None) -> EnquiryRecord:
    return EnquiryRecord.open(an_enquiry(agencies), load_agencies(), OPENED_AT, policy)


def test_opening_makes_a_request_per_agency_and_fixes_the_reminder_times() -> None:
    record = a_record()

    assert record.agencies == ["police", "health", "education"]
    assert record.state is EnquiryState.OPEN
    assert record.unanswered == ["police", "health", "education"]
    assert record.reminder_times == [HALF_WAY, EIGHTY_FIVE]


def test_opening_with_an_unknown_agency_is_refused() -> None:
    with pytest.raises(UnknownAgency):
        a_record(["police", "fire-service"])


def test_an_agency_that_answers_twice_is_stored_once() -> None:
    record = a_record()
    first = an_answer("health", [shareable("h1", "Mother missed three antenatal appointments")])
    second = an_answer("health", [shareable("h2", "A different second answer")], at=OPENED_AT + timedelta(hours=2))

    assert record.record_response(first, OPENED_AT + timedelta(hours=1)) == Accepted("health")
    assert record.record_response(second, OPENED_AT + timedelta(hours=2)) == Duplicate("health")
    assert record.record_response(first, OPENED_AT + timedelta(hours=3)) == Duplicate("health")  # redelivery

    assert record.responses == {"health": first}
    assert record.received_at["health"] == OPENED_AT + timedelta(hours=1)
    assert record.unanswered == ["police", "education"]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (an_answer("police", enquiry_id="enq-9999"), "enquiry 'enq-9999'"),
        (an_answer("police", referral_id="ref-9999"), "referral 'ref-9999'"),
        (an_answer("housing"), "agency 'housing' was not asked"),
        (an_answer("police", request_id="forged-request"), "request 'forged-request'"),
    ],
)
def test_an_answer_that_does_not_belong_to_the_enquiry_is_rejected_with_the_reason(answer: Any, reason: str) -> None:
    record = a_record()

    result = record.record_response(answer, OPENED_AT + timedelta(hours=1))

    assert isinstance(result, Rejected)
    assert reason in result.reason
    assert record.responses == {}
    assert record.unanswered == ["police", "health", "education"]


def test_an_agency_that_never_answers_is_named_when_the_due_time_passes() -> None:
    record = a_record()
    record.record_response(an_answer("police", [shareable("p1", "Father due for release")]), OPENED_AT)
    record.record_response(an_answer("health"), OPENED_AT)

    assert not record.completion_due(DUE_AT - timedelta(seconds=1))
    with pytest.raises(CompletionNotDue, match="education"):
        record.complete(DUE_AT - timedelta(seconds=1))

    assert record.completion_due(DUE_AT)
    outcome = record.complete(DUE_AT)

    assert outcome.completion == "due_time_passed"
    assert outcome.not_answered == ["education"]
    assert [finding.agency for finding in outcome.findings] == ["police", "health"]
    assert outcome.completed_at == DUE_AT
    assert record.state is EnquiryState.COMPLETED
    assert not record.completion_due(DUE_AT + timedelta(hours=1))


def test_when_everyone_has_answered_completion_is_due_at_once() -> None:
    record = a_record(["police", "health"])
    record.record_response(an_answer("police"), OPENED_AT)
    assert not record.completion_due(OPENED_AT + timedelta(minutes=1))
    record.record_response(an_answer("health"), OPENED_AT)

    assert record.completion_due(OPENED_AT + timedelta(minutes=1))
    outcome = record.complete(OPENED_AT + timedelta(minutes=1))
    assert outcome.completion == "all_answered"
    assert outcome.not_answered == []


def test_completing_again_returns_the_same_outcome() -> None:
    record = a_record(["police"])
    record.record_response(an_answer("police", [shareable("p1", "Known to police")]), OPENED_AT)

    first = record.complete(OPENED_AT + timedelta(hours=1))
    again = record.complete(OPENED_AT + timedelta(hours=5))

    assert again == first
    assert again.completed_at == OPENED_AT + timedelta(hours=1)
    assert record.outcome() == first


def test_findings_carry_ratings_outcomes_and_shareable_items_while_sensitive_ones_are_sealed() -> None:
    record = a_record(["police", "education"])
    police = an_answer(
        "police",
        [shareable("p1", "Call-out to the address last month"), sensitive("p2", SECRET)],
        rating=BragRating.RED,
    )
    record.record_response(police, OPENED_AT)
    record.record_response(an_answer("education"), OPENED_AT)

    outcome = record.complete(OPENED_AT + timedelta(hours=1))

    (police_findings, education_findings) = outcome.findings
    assert police_findings.rating is BragRating.RED
    assert police_findings.outcome == "information_held"
    assert [item.item_id for item in police_findings.items] == ["p1"]
    assert education_findings.outcome == "nothing_known"
    assert [(sealed.agency, sealed.item.item_id) for sealed in outcome.sealed] == [("police", "p2")]
    assert all(SECRET not in finding.model_dump_json() for finding in outcome.findings)


def test_a_late_answer_becomes_an_addendum_and_does_not_change_the_outcome() -> None:
    record = a_record(["police", "health"])
    record.record_response(an_answer("police"), OPENED_AT)
    outcome = record.complete(DUE_AT)
    late = an_answer("health", [shareable("h1", "Mother's mental health history"), sensitive("h2", SECRET)])

    result = record.record_response(late, DUE_AT + timedelta(hours=2))

    assert isinstance(result, Late)
    addendum = result.addendum
    assert addendum.enquiry_id == ENQUIRY_ID
    assert addendum.findings.agency == "health"
    assert [item.item_id for item in addendum.findings.items] == ["h1"]
    assert [(sealed.agency, sealed.item.item_id) for sealed in addendum.sealed] == [("health", "h2")]
    assert SECRET not in addendum.findings.model_dump_json()
    assert record.complete(DUE_AT + timedelta(hours=3)) == outcome  # still names health as silent
    assert record.outcome() is not None
    assert record.outcome().not_answered == ["health"]  # type: ignore[union-attr]
    assert record.record_response(late, DUE_AT + timedelta(hours=4)) == Duplicate("health")
    assert record.late_responses == {"health": late}


def test_an_answer_after_the_due_time_but_before_completion_still_counts() -> None:
    record = a_record(["police"])

    assert record.record_response(an_answer("police"), DUE_AT + timedelta(minutes=5)) == Accepted("police")
    assert record.complete(DUE_AT + timedelta(minutes=6)).not_answered == []


def test_reminders_go_at_the_configured_points_to_those_who_have_not_answered_and_not_twice() -> None:
    record = a_record()
    record.record_response(an_answer("health"), OPENED_AT + timedelta(hours=1))

    assert record.reminders_due(HALF_WAY - timedelta(seconds=1)) == []

    due = record.reminders_due(HALF_WAY)
    assert [(reminder.agency, reminder.number) for reminder in due] == [("police", 1), ("education", 1)]
    assert all(reminder.request.reminder_number == 1 for reminder in due)
    assert due[0].request.request_id == record.requests["police"].request_id
    for reminder in due:
        record.mark_reminded(reminder.agency, reminder.number, HALF_WAY)

    assert record.reminders_due(HALF_WAY + timedelta(hours=1)) == []
    record.record_response(an_answer("education"), EIGHTY_FIVE - timedelta(minutes=1))

    second = record.reminders_due(EIGHTY_FIVE)
    assert [(reminder.agency, reminder.number) for reminder in second] == [("police", 2)]
    record.mark_reminded("police", 2, EIGHTY_FIVE)
    record.mark_reminded("police", 1, EIGHTY_FIVE)  # a stale mark does not go backwards
    assert record.last_reminder("police") == 2
    assert record.reminders_due(EIGHTY_FIVE + timedelta(minutes=30)) == []
    assert record.reminders_due(DUE_AT) == []


def test_after_an_outage_only_the_latest_reminder_goes_out() -> None:
    record = a_record(["police"])

    due = record.reminders_due(EIGHTY_FIVE + timedelta(minutes=1))

    assert [(reminder.agency, reminder.number) for reminder in due] == [("police", 2)]


def test_reminder_points_can_be_fixed_durations_before_the_due_time() -> None:
    policy = ReminderPolicy(points=(BeforeDuePoint(before_due=timedelta(hours=1)), ElapsedPoint(elapsed=0.2)))
    record = a_record(["police"], policy)

    assert record.reminder_times == [OPENED_AT + timedelta(hours=2), DUE_AT - timedelta(hours=1)]
    assert record.reminders_due(DUE_AT - timedelta(hours=1, seconds=1))[0].number == 1
    assert record.reminders_due(DUE_AT - timedelta(hours=1))[0].number == 2


def test_a_point_before_the_window_opened_is_dropped() -> None:
    policy = ReminderPolicy(points=(BeforeDuePoint(before_due=timedelta(hours=12)), ElapsedPoint(elapsed=0.5)))

    assert a_record(["police"], policy).reminder_times == [HALF_WAY]


def test_a_reminder_for_an_agency_not_asked_is_refused() -> None:
    with pytest.raises(UnknownAgency):
        a_record().mark_reminded("housing", 1, HALF_WAY)


def test_wake_at_is_the_next_reminder_or_the_due_time() -> None:
    record = a_record(["police", "health"])
    assert record.wake_at() == HALF_WAY
    record.mark_reminded("police", 1, HALF_WAY)
    assert record.wake_at() == HALF_WAY  # health is still owed reminder 1
    record.mark_reminded("health", 1, HALF_WAY)
    assert record.wake_at() == EIGHTY_FIVE
    record.mark_reminded("police", 2, EIGHTY_FIVE)
    record.mark_reminded("health", 2, EIGHTY_FIVE)
    assert record.wake_at() == DUE_AT
    record.complete(DUE_AT)
    assert record.wake_at() is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        a_record().completion_due(OPENED_AT.replace(tzinfo=None))


def _walk(value: Any, path: str = "") -> list[str]:
    """Problems for MongoDB: keys with '.' or a leading '$', and arrays directly inside arrays."""
    problems: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if "." in key or key.startswith("$"):
                problems.append(f"{path}/{key}")
            problems += _walk(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if isinstance(inner, list):
                problems.append(f"{path}[{index}] is an array in an array")
            problems += _walk(inner, f"{path}[{index}]")
    return problems


def a_busy_record() -> EnquiryRecord:
    record = a_record(["police", "health", "education"])
    record.record_response(an_answer("police", [shareable("p1", "Call-out"), sensitive("p2", SECRET)]), OPENED_AT)
    record.mark_reminded("health", 1, HALF_WAY)
    record.mark_reminded("education", 1, HALF_WAY)
    record.record_response(an_answer("education"), HALF_WAY)
    record.complete(DUE_AT)
    record.record_response(an_answer("health", [sensitive("h1", "Health's own sealed note", "Known to CAMHS")]), DUE_AT)
    return record


def test_the_record_round_trips_through_a_plain_document_with_sensitive_items_sealed() -> None:
    sealer = AtRestCipher([AtRestCipher.generate_key()])
    record = a_busy_record()

    document = record_document(record, sealer)

    assert _walk(document) == []
    assert SECRET not in repr(document)
    assert "Health's own sealed note" not in repr(document)
    assert document["enquiry_id"] == ENQUIRY_ID
    assert document["state"] == "completed"
    assert document["wake_at"] is None
    stored = {**document, "_id": ENQUIRY_ID, "version": 7, "outbox": []}  # what the store adds
    assert record_from_document(stored, sealer) == record


def test_an_open_records_document_carries_its_wake_time() -> None:
    document = record_document(a_record(), AtRestCipher([AtRestCipher.generate_key()]))

    assert document["wake_at"] == HALF_WAY
    assert document["state"] == "open"


def test_a_document_sealed_under_other_keys_does_not_open() -> None:
    document = record_document(a_busy_record(), AtRestCipher([AtRestCipher.generate_key()]))

    with pytest.raises(SealBroken):
        record_from_document(document, AtRestCipher([AtRestCipher.generate_key()]))


def test_a_sealed_item_moved_under_another_id_is_detected() -> None:
    sealer = AtRestCipher([AtRestCipher.generate_key()])
    document = record_document(a_busy_record(), sealer)
    document["responses"]["police"]["items"][1]["item_id"] = "p9"

    with pytest.raises(SealBroken, match="does not match"):
        record_from_document(document, sealer)
