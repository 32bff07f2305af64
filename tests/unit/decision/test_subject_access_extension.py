"""Extending a subject access deadline (UK GDPR Art. 12(3)), on the pure SubjectAccessCase: three calendar
months from receipt, counted as the first month is; once; only by the original due day; never without a reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from mash_decision.domain.subject_access import (
    AlreadyExtended,
    ExtensionNeedsReason,
    ExtensionTooLate,
    SubjectAccessCase,
    one_calendar_month,
    three_calendar_months,
)
from mash_schemas.subject_access import PersonIdentifiers

pytestmark = pytest.mark.unit
COMPLEX = "Records held across five services and three agencies: complex request"


def received_on(day: date) -> SubjectAccessCase:
    at = datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)
    return SubjectAccessCase(request_id="SAR-1", person=PersonIdentifiers(family_name="Turner"),
                             reason="letter", requested_by="mgr", received_at=at, due_on=one_calendar_month(day))


def at(day: date, hour: int = 16) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_three_calendar_months_counts_like_the_first_month() -> None:
    assert three_calendar_months(date(2026, 3, 2)) == date(2026, 6, 2)
    assert three_calendar_months(date(2026, 11, 30)) == date(2027, 2, 28)  # across the year, to a short month
    assert three_calendar_months(date(2027, 11, 30)) == date(2028, 2, 29)  # a leap year
    assert three_calendar_months(date(2026, 5, 31)) == date(2026, 8, 31)
    assert three_calendar_months(date(2026, 3, 31)) == date(2026, 6, 30)


def test_an_extension_moves_the_due_day_to_three_months_from_receipt_and_records_who_when_why() -> None:
    case = received_on(date(2026, 1, 31))
    assert case.due_on == date(2026, 2, 28)
    case.extend(COMPLEX, "Mo Patel", at(date(2026, 2, 10)))
    # From receipt (30 April), not two months after the first due day (28 April).
    assert case.due_on == date(2026, 4, 30)
    assert case.extension is not None
    assert (case.extension.by, case.extension.reason, case.extension.original_due_on) == (
        "Mo Patel", COMPLEX, date(2026, 2, 28))
    shown = case.summary(date(2026, 3, 15))
    assert shown["due_on"] == "2026-04-30" and shown["timing"] == "due"
    assert shown["extension"] == {"reason": COMPLEX, "by": "Mo Patel", "at": "2026-02-10T16:00:00Z",
                                  "original_due_on": "2026-02-28"}
    assert case.export(date(2026, 3, 15))["extension"] == shown["extension"]
    assert case.timing(date(2026, 4, 30)) == "due" and case.timing(date(2026, 5, 1)) == "overdue"


def test_an_extension_is_allowed_on_the_due_day_itself_but_not_after() -> None:
    on_the_day = received_on(date(2026, 3, 2))
    on_the_day.extend(COMPLEX, "Mo", at(date(2026, 4, 2), hour=23))
    assert on_the_day.due_on == date(2026, 6, 2)

    overdue = received_on(date(2026, 3, 2))
    with pytest.raises(ExtensionTooLate, match="due on 2026-04-02"):
        overdue.extend(COMPLEX, "Mo", at(date(2026, 4, 3), hour=0))
    assert overdue.due_on == date(2026, 4, 2) and overdue.extension is None


def test_a_deadline_is_extended_once_only() -> None:
    case = received_on(date(2026, 3, 2))
    case.extend(COMPLEX, "Mo", at(date(2026, 3, 5)))
    with pytest.raises(AlreadyExtended, match="only once"):
        case.extend("even more complex", "Ann", at(date(2026, 3, 6)))
    assert case.due_on == date(2026, 6, 2)
    assert case.extension is not None and case.extension.by == "Mo"


def test_an_extension_needs_a_reason() -> None:
    case = received_on(date(2026, 3, 2))
    for blank in ("", "   "):
        with pytest.raises(ExtensionNeedsReason):
            case.extend(blank, "Mo", at(date(2026, 3, 5)))
    assert case.extension is None and case.summary(date(2026, 3, 5))["extension"] is None
