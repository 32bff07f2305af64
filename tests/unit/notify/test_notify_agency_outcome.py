"""Outcome notices to consulted agencies: the outcome, the receiving service, thanks — no items."""

from __future__ import annotations

import pytest
from mash_notify.domain.agency_outcome import agency_outcome_notices
from mash_notify.domain.rendering import render_agency_outcome
from mash_schemas import Outcome

from tests.unit.notify.notify_builders import RECIPIENTS, decision, sealed_item, shared_item

pytestmark = pytest.mark.unit

ITEMS = [
    ("health", shared_item("H1", "Mother attended A&E twice in February with injuries.")),
    ("education", shared_item("E1", "Attendance at 64% with unexplained absences.", about="Lily Evans")),
    ("police", sealed_item("P1", "Intelligence: partner suspected of supplying class A drugs.")),
]


def test_each_consulted_agency_gets_one_notice_in_order() -> None:
    notices = agency_outcome_notices(
        decision(items=ITEMS, agencies_consulted=["health", "education", "police", "health", "housing"]),
        RECIPIENTS.agency_names,
        RECIPIENTS.service_names,
    )

    assert [notice.agency for notice in notices] == ["health", "education", "police", "housing"]


def test_a_notice_gives_outcome_receiving_service_and_thanks() -> None:
    notice = agency_outcome_notices(
        decision(items=ITEMS, outcome=Outcome.EARLY_HELP, receiving_service="early-help"),
        RECIPIENTS.agency_names,
        RECIPIENTS.service_names,
    )[0]
    rendered = render_agency_outcome(notice)

    assert notice.agency_name == "Health"
    assert "the hub decided: Early Help" in rendered.body
    assert "The case now passes to Early Help." in rendered.body
    assert "Thank you" in rendered.body
    assert "R-2025-0042" in rendered.subject


def test_no_notice_carries_any_agency_item() -> None:
    notices = agency_outcome_notices(decision(items=ITEMS), RECIPIENTS.agency_names, RECIPIENTS.service_names)

    assert len(notices) == 3
    for notice in notices:
        rendered = render_agency_outcome(notice)
        text = rendered.subject + rendered.body + notice.model_dump_json()
        for _, item in ITEMS:
            assert item.summary not in text


def test_an_unconfigured_service_is_named_by_its_id() -> None:
    notice = agency_outcome_notices(decision(items=ITEMS, receiving_service="youth-justice-team"))[0]

    assert notice.receiving_service_name == "youth justice team"
    assert notice.agency_name == "Health"
