"""Screening parses an event as its current writers emit it once, straight from the bytes
(mash_schemas.evolution.read_current_event); everything else takes the careful path, so a record that only
looks current (a schema_version that is a bool, a float or a string, no event_type) is refused with the
same reason as before, an older version is still upcast, and both paths give the same event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from mash_runtime.screening import Refusal, screen
from mash_schemas import NotificationFailed, TimescaleAlert, TimescaleAlertRaised
from mash_schemas.evolution import read_current_event, read_event
from pydantic import ValidationError

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
LIMIT = 1_000_000


def current() -> dict[str, Any]:
    alert = TimescaleAlert(referral_id="MASH-1", rating="red", target="red: 4 working hours", due_at=AT,
                           status="breached", working_minutes_left=-30)
    return json.loads(TimescaleAlertRaised.build(alert, correlation_id="MASH-1", producer="decision")
                      .model_dump_json())


def test_an_event_as_written_reads_the_same_in_one_step_as_the_careful_way() -> None:
    raw = json.dumps({**current(), "added_by_a_newer_producer": 1}).encode()

    assert screen(raw, TimescaleAlertRaised, LIMIT) == read_current_event(raw, TimescaleAlertRaised) \
        == read_event(json.loads(raw), TimescaleAlertRaised)


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_a_schema_version_that_is_not_an_integer_is_still_refused(version: object) -> None:
    raw = json.dumps({**current(), "schema_version": version}).encode()

    with pytest.raises(ValidationError):
        read_current_event(raw, TimescaleAlertRaised)
    assert screen(raw, TimescaleAlertRaised, LIMIT) == Refusal("invalid_event", "schema_version: not an integer")


def test_an_event_without_event_type_is_still_refused() -> None:
    body = current()
    del body["event_type"]

    assert screen(json.dumps(body).encode(), TimescaleAlertRaised, LIMIT) == Refusal(
        "invalid_event", "event_type: missing; every event names its type")


def test_an_older_version_is_not_read_as_current_but_upcast() -> None:
    version_1 = json.dumps({
        "event_id": "0b4e7a0e-5f1c-4c8e-9a55-0d2f0d0c1a11", "event_type": "notification.failed",
        "schema_version": 1, "occurred_at": AT.isoformat(), "correlation_id": "MASH-1", "producer": "notify",
        "payload": {"notification_id": "N-1", "referral_id": "MASH-1", "decision_id": "D-1", "kind": "handoff",
                    "recipient": "assessment-team", "channel": "webhook", "failed_at": AT.isoformat(),
                    "retries": 7, "last_error": "HTTP 503"},
    }).encode()

    with pytest.raises(ValidationError):
        read_current_event(version_1, NotificationFailed)
    event = screen(version_1, NotificationFailed, LIMIT)
    assert isinstance(event, NotificationFailed)
    assert (event.schema_version, event.payload.attempts) == (2, 8)


@pytest.mark.parametrize(("raw", "error_type"), [
    (b"not json", "invalid_event"), (b"[1, 2]", "invalid_event"), (b"{" * 5000, "invalid_event"),
    (b"\xff\xfe", "invalid_event"),
])
def test_poison_is_refused_by_the_careful_path(raw: bytes, error_type: str) -> None:
    refusal = screen(raw, TimescaleAlertRaised, LIMIT)

    assert isinstance(refusal, Refusal)
    assert refusal.error_type == error_type
