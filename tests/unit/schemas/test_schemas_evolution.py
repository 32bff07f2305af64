"""Strict writers, tolerant readers, and upcasting by schema_version (mash_schemas.evolution)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from mash_schemas import NotificationFailed, NotificationFailure, NotificationKind, NotificationSent
from mash_schemas.evolution import (
    EVENT_UPCASTERS,
    EventUpcasters,
    UnsupportedSchemaVersion,
    read_event,
)
from mash_schemas.notification import upcast_notification_failed_v1_v2
from pydantic import ValidationError

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def failure(**overrides: Any) -> NotificationFailure:
    fields: dict[str, Any] = {
        "notification_id": "N-1", "referral_id": "MASH-1", "decision_id": "D-1",
        "kind": NotificationKind.HANDOFF, "recipient": "assessment-team", "channel": "email",
        "failed_at": AT, "attempts": 5, "reason": "SMTP 550 mailbox unavailable",
    } | overrides
    return NotificationFailure(**fields)


def version_1_failure() -> dict[str, Any]:
    """notification.failed as version 1 wrote it: `retries` after the first try, the cause as `last_error`."""
    return {
        "event_id": str(uuid.uuid4()), "event_type": "notification.failed", "schema_version": 1,
        "occurred_at": AT.isoformat(), "correlation_id": "MASH-1", "producer": "notify",
        "payload": {"notification_id": "N-1", "referral_id": "MASH-1", "decision_id": "D-1", "kind": "handoff",
                    "recipient": "assessment-team", "channel": "email", "failed_at": AT.isoformat(),
                    "retries": 4, "last_error": "SMTP 550 mailbox unavailable"},
    }


def test_a_writer_cannot_emit_an_unknown_or_misspelt_field() -> None:
    with pytest.raises(ValidationError, match="reson"):
        failure(reson="typo")
    with pytest.raises(ValidationError, match="prodcer"):
        NotificationFailed(event_id=uuid.uuid4(), occurred_at=AT, correlation_id="MASH-1", producer="notify",
                           prodcer="notify", payload=failure())  # type: ignore[call-arg]


def test_a_writer_emits_its_events_current_version_and_no_other() -> None:
    event = NotificationFailed.build(failure(), correlation_id="MASH-1", producer="notify")
    assert event.schema_version == NotificationFailed.SCHEMA_VERSION == 2
    assert json.loads(event.model_dump_json())["schema_version"] == 2
    with pytest.raises(ValidationError, match="writes version 2"):
        NotificationFailed(event_id=uuid.uuid4(), occurred_at=AT, correlation_id="MASH-1", producer="notify",
                           schema_version=1, payload=failure())


def test_a_reader_ignores_fields_a_newer_producer_added_at_any_depth() -> None:
    event = NotificationFailed.build(failure(), correlation_id="MASH-1", producer="notify")
    newer = json.loads(event.model_dump_json())
    newer["tenant"] = "westshire"
    newer["payload"]["retry_after"] = "PT1H"

    read = read_event(json.dumps(newer).encode(), NotificationFailed)

    assert read == event
    with pytest.raises(ValidationError):  # the same document is still refused to a writer
        NotificationFailed.model_validate(newer)


def test_a_reader_still_refuses_an_invalid_event() -> None:
    event = json.loads(NotificationFailed.build(failure(), correlation_id="MASH-1", producer="notify")
                       .model_dump_json())
    del event["payload"]["reason"]
    with pytest.raises(ValidationError, match="reason"):
        read_event(json.dumps(event), NotificationFailed)


def test_the_example_upcaster_reads_a_version_1_notification_failed() -> None:
    read = read_event(json.dumps(version_1_failure()), NotificationFailed)

    assert read.schema_version == 2
    assert read.payload.attempts == 5  # 4 retries after the first try
    assert read.payload.reason == "SMTP 550 mailbox unavailable"


def test_the_example_upcaster_leaves_a_version_2_payload_as_it_is() -> None:
    current = json.loads(NotificationFailed.build(failure(), correlation_id="M", producer="n").model_dump_json())
    assert upcast_notification_failed_v1_v2(current)["payload"] == current["payload"]


def test_a_version_with_no_upcaster_path_is_refused_with_its_reason() -> None:
    newer = {**version_1_failure(), "schema_version": 3}
    with pytest.raises(UnsupportedSchemaVersion, match=r"schema_version 3 is not supported .*supported: 1, 2"):
        read_event(json.dumps(newer), NotificationFailed)
    older = {**version_1_failure(), "event_type": "notification.sent", "schema_version": 0}
    with pytest.raises(UnsupportedSchemaVersion, match="schema_version 0 is not supported"):
        read_event(json.dumps(older), NotificationSent)


def test_the_registry_lists_versions_with_an_unbroken_chain_and_refuses_a_second_upcaster() -> None:
    upcasters = EventUpcasters()
    upcasters.register("x.happened", 2)(lambda document: document)
    assert upcasters.supported_versions("x.happened", 3) == {2, 3}  # nothing from 1: the chain starts at 2
    with pytest.raises(ValueError, match="already registered"):
        upcasters.register("x.happened", 2)(lambda document: document)
    assert EVENT_UPCASTERS.supported_versions("notification.failed", 2) == {1, 2}
