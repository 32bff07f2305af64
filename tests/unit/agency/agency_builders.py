"""Builders for the agency kit's tests: enquiry requests made from the demo's scenario files."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from mash_schemas import EnquiryRequest, EnquiryRequested, HouseholdMember, Subject

DEMO = Path(__file__).resolve().parents[3] / "demo"
DUE_AT = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


def scenarios() -> list[dict[str, Any]]:
    """The scenarios of demo/scenarios.yaml."""
    loaded: dict[str, Any] = yaml.safe_load((DEMO / "scenarios.yaml").read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = loaded["scenarios"]
    return result


def scenario(number: int) -> dict[str, Any]:
    """One scenario of demo/scenarios.yaml by its number."""
    return next(entry for entry in scenarios() if entry["number"] == number)


def demo_json(relative: str) -> dict[str, Any]:
    """A JSON file of the demo folder."""
    loaded: dict[str, Any] = json.loads((DEMO / relative).read_text(encoding="utf-8"))
    return loaded


def request_from(
    people: dict[str, Any],
    agency: str,
    *,
    request_id: str = "req-0001",
    referral_id: str = "ref-0001",
    reminder_number: int = 0,
    due_at: datetime = DUE_AT,
) -> EnquiryRequest:
    """The request the research desk would send `agency` about the subjects/household in `people`."""
    return EnquiryRequest(
        request_id=request_id,
        enquiry_id="enq-0001",
        referral_id=referral_id,
        agency=agency,
        subjects=[Subject.model_validate(subject) for subject in people["subjects"]],
        household=[HouseholdMember.model_validate(member) for member in people.get("household", [])],
        questions=["What do you know about this family?"],
        due_at=due_at,
        lawful_basis="Children Act 1989 s17",
        consent_position="not sought: see referral",
        reminder_number=reminder_number,
    )


def scenario_request(number: int, agency: str, **kwargs: Any) -> EnquiryRequest:
    """The request `agency` gets in scenario `number`, from that scenario's contact file."""
    return request_from(demo_json(scenario(number)["contact"]), agency, **kwargs)


def request_event(request: EnquiryRequest, *, event_id: uuid.UUID | None = None) -> EnquiryRequested:
    """`request` wrapped as the research desk publishes it (each send, reminders too, is a new event)."""
    return EnquiryRequested.build(
        request,
        correlation_id=request.referral_id,
        producer="enquiry",
        event_id=event_id or uuid.uuid4(),
        occurred_at=NOW,
    )
