"""The retention schedule as data: the packaged default, the rule each record falls under and its date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from mash_runtime.config_files import ConfigError, parse_config
from mash_runtime.retention import RetainedRecord, RetentionSchedule, load_retention_schedule
from mash_schemas.governance import RecordKind

pytestmark = pytest.mark.unit
DECIDED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def contact(outcome: str | None, births: tuple[date, ...] = (), known: bool = True) -> RetainedRecord:
    return RetainedRecord(referral_id="MASH-1", kind=RecordKind.CONTACT, outcome=outcome,
                          received_at=DECIDED - timedelta(days=1), decided_at=DECIDED, birth_dates=births,
                          birth_dates_known=known)


def test_no_further_action_goes_two_years_after_the_decision() -> None:
    schedule = load_retention_schedule()
    assert schedule.due_at(contact("no_further_action")) == datetime(2028, 3, 2, 10, 0, tzinfo=UTC)


def test_a_referral_to_social_care_stays_until_the_youngest_child_is_25_or_six_years() -> None:
    schedule = load_retention_schedule()
    assert schedule.due_at(contact("child_protection", (date(2015, 1, 1), date(2019, 6, 30)))) == datetime(
        2044, 6, 30, tzinfo=UTC)
    assert schedule.due_at(contact("child_protection", (date(1999, 1, 1),))) == datetime(
        2032, 3, 2, 10, 0, tzinfo=UTC)


def test_a_copy_that_cannot_count_to_a_birthday_is_never_due_by_itself() -> None:
    schedule = load_retention_schedule()
    assert schedule.due_at(contact("statutory_assessment", known=False)).year == 9999
    assert schedule.due_at(contact("no_further_action", known=False)).year == 2028


def test_an_undecided_or_unknown_outcome_takes_the_kinds_default() -> None:
    schedule = load_retention_schedule()
    assert schedule.rule_for(RecordKind.CONTACT, None).name == "contact/*"
    assert schedule.rule_for(RecordKind.CONTACT, "something_new").name == "contact/*"
    assert schedule.rule_for(RecordKind.CONSULTATION, None).keep.years == 1


def test_a_subject_access_request_is_kept_two_years_from_receipt_whatever_happened_to_it() -> None:
    schedule = load_retention_schedule()
    request = RetainedRecord(referral_id="SAR-1", kind=RecordKind.SUBJECT_ACCESS_REQUEST, outcome=None,
                             received_at=datetime(2028, 2, 29, 9, 30, tzinfo=UTC), held_with=("MASH-1",))
    assert schedule.rule_for(RecordKind.SUBJECT_ACCESS_REQUEST, None).name == "subject_access_request/*"
    assert schedule.due_at(request) == datetime(2030, 2, 28, 9, 30, tzinfo=UTC)


def test_topics_keep_case_events_for_thirty_days_and_dead_letters_for_fourteen() -> None:
    schedule = load_retention_schedule()
    assert schedule.topic_retention("mash.referral.received") == timedelta(days=30)
    assert schedule.topic_retention("mash.deadletter") == timedelta(days=14)


def test_a_schedule_without_a_default_for_a_kind_is_refused_naming_it() -> None:
    text = "rules:\n  - {kind: contact, outcome: '*', keep: {years: 1}, from: received}\n"
    with pytest.raises(ConfigError, match="missing for consultation, audit_record, dead_letter, subject_access_request"):
        parse_config(text, RetentionSchedule, what="retention schedule")
