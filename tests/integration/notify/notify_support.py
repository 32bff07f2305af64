"""What notify's integration tests share: one decision with every kind of item, and ways to read the results."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
from mash_schemas import (
    Address,
    BragRating,
    Decision,
    DecisionMade,
    HandoffItem,
    InformationItem,
    Outcome,
    Referrer,
    ReleaseCondition,
    ReleasedItem,
    Sensitivity,
    Subject,
    WithheldItem,
    is_releasable,
)

from tests.support.topics import Recorded, TopicRecorder

# The three kinds of item a hand-off can meet (texts long enough for the sealed-text check to look for).
HEALTH_SHARED = "Mother has missed three mental-health appointments since January"
POLICE_SEALED = "Intelligence: the mother's partner is suspected of sexual offences against children, not convicted"
POLICE_ROUTE = "Contact the Police Public Protection Unit on 0100 000 0000, quoting the MASH reference"
PROBATION_SEALED = "Father Mark Evans leaves HMP Exeter on 14 March after a sentence for wounding"
PROBATION_PERMITTED = "The children's father is due to be released from prison next week"
PROBATION_ROUTE = "Ask the probation duty officer"

REFERRER_EMAIL = "dsl@hill-primary.example.org"
ASSESSMENT_TEAM_EMAIL = "assessment-team@example.org"
# The packaged recipients.yaml: the agencies consulted below and their addresses.
AGENCY_EMAILS = {
    "police": "mash-police@example.org",
    "health": "mash-health@example.org",
    "probation": "mash-probation@example.org",
}

OPERATIONS = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_JWT_SECRET, 'Ops on call', [Role.OPERATIONS])}"}
MANAGER = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_JWT_SECRET, 'Mo Patel', [Role.MANAGER])}"}


def decision_made(
    referral_id: str,
    *,
    referrer_email: str | None = REFERRER_EMAIL,
    agencies: tuple[str, ...] = ("police", "health", "probation"),
    legacy: bool = False,
) -> DecisionMade:
    """A statutory assessment for the assessment team with a shared, a sealed and a released item.

    As the decision service sends it: the shared and released items in their releasable form, the sealed
    one as a reference only. `legacy=True` carries the whole items, as decisions written before did.
    """
    decided_at = datetime.now(UTC)
    items = [
        HandoffItem(agency="health", item=InformationItem(
            item_id="H-1", about="mother", summary=HEALTH_SHARED, sensitivity=Sensitivity.NON_SENSITIVE)),
        HandoffItem(agency="police", item=InformationItem(
            item_id="P-1", about="mother's partner", summary=POLICE_SEALED, sensitivity=Sensitivity.SENSITIVE,
            release=ReleaseCondition(permitted=False, request_route=POLICE_ROUTE))),
        HandoffItem(agency="probation", item=InformationItem(
            item_id="PR-1", about="father", summary=PROBATION_SEALED, sensitivity=Sensitivity.SENSITIVE,
            release=ReleaseCondition(permitted=True, permitted_wording=PROBATION_PERMITTED,
                                     request_route=PROBATION_ROUTE))),
    ]
    decision = Decision(
        decision_id=f"D-{referral_id}",
        referral_id=referral_id,
        decided_by="Sam Okafor, MASH manager",
        decided_at=decided_at,
        referral_received_at=decided_at - timedelta(hours=3),
        rating=BragRating.AMBER,
        outcome=Outcome.STATUTORY_ASSESSMENT,
        receiving_service="assessment-team",
        rationale="The agencies' answers together show unmet needs; the threshold for a s17 assessment is met.",
        referrer=Referrer(role="designated safeguarding lead", agency="Hill Primary School", name="Priya Shah",
                          email=referrer_email),
        subjects=[Subject(subject_id="S-1", given_name="Lily", family_name="Evans", date_of_birth=date(2018, 6, 1),
                          address=Address(lines=["12 Orchard Way"], town="Exeter", postcode="EX1 1AA"))],
        handoff_items=items if legacy else [],
        released_items=[] if legacy else [ReleasedItem.of(c.agency, c.item) for c in items if is_releasable(c.item)],
        withheld_items=[] if legacy else [WithheldItem.of(c.agency, c.item) for c in items
                                          if not is_releasable(c.item)],
        agencies_consulted=list(agencies),
    )
    return DecisionMade.build(decision, correlation_id=referral_id, producer="decision", event_id=uuid.uuid4())


def new_referral_id() -> str:
    """A referral id of this test's own."""
    return f"R-{uuid.uuid4().hex[:12]}"


def webhook_only_recipients(path: Path, webhook_port: int) -> Path:
    """Recipients where the assessment team is reached by webhook only, so a test knows which call fails."""
    path.write_text(
        "receiving_services:\n"
        "  assessment-team:\n"
        "    display_name: the assessment team\n"
        "    webhook:\n"
        f"      url: http://127.0.0.1:{webhook_port}/hooks/assessment-team\n"
        "      secret_name: MASH_WEBHOOK_SECRET_ASSESSMENT_TEAM\n",
        encoding="utf-8",
    )
    return path


def events_by_notification(recorder: TopicRecorder, topic: str) -> dict[str, set[str]]:
    """notification id -> the distinct event ids published for it on `topic`."""
    found: dict[str, set[str]] = {}
    for record in recorder.on(topic):
        event = record.json()
        found.setdefault(event["payload"]["notification_id"], set()).add(event["event_id"])
    return found


def payloads(records: list[Recorded]) -> list[dict[str, Any]]:
    """The payloads of recorded events, one per event id (a relay may publish an event twice after a crash)."""
    by_event_id = {record.json()["event_id"]: record.json()["payload"] for record in records}
    return list(by_event_id.values())
