"""Builders for notify's unit tests: decisions, items and referrers with sensible defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from mash_notify.domain.messages import OutgoingMessage
from mash_notify.domain.recipients import RecipientsConfig, load_recipients
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

DECIDED_AT = datetime(2025, 3, 4, 14, 5, tzinfo=UTC)
RECEIVED_AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
EVENT_ID = uuid.UUID("0b6d7f0e-3a51-4d57-9a4f-2f3c3c7d1a10")

RECIPIENTS: RecipientsConfig = load_recipients()

POLICE_ROUTE = "Contact the Police Public Protection Unit on 0100 000 0000, quoting the MASH reference"


def child(given: str = "Lily", family: str = "Evans") -> Subject:
    return Subject(
        subject_id=f"S-{given}-{family}",
        given_name=given,
        family_name=family,
        date_of_birth=date(2018, 6, 1),
        address=Address(lines=["12 Orchard Way"], town="Exeter", postcode="EX1 1AA"),
    )


def professional(email: str | None = "dsl@hill-primary.example.org") -> Referrer:
    return Referrer(
        role="designated safeguarding lead",
        agency="Hill Primary School",
        name="Priya Shah",
        email=email,
    )


def member_of_public(email: str | None = "worried.neighbour@example.org") -> Referrer:
    return Referrer(role="member of the public", name="Dana Whitlock", email=email, is_member_of_public=True)


def shared_item(item_id: str, summary: str, about: str = "mother") -> InformationItem:
    return InformationItem(item_id=item_id, about=about, summary=summary, sensitivity=Sensitivity.NON_SENSITIVE)


def sealed_item(
    item_id: str,
    summary: str,
    *,
    permitted: bool = False,
    wording: str | None = None,
    route: str = POLICE_ROUTE,
    about: str = "mother's partner",
    rating_reason: str | None = None,
) -> InformationItem:
    return InformationItem(
        item_id=item_id,
        about=about,
        summary=summary,
        sensitivity=Sensitivity.SENSITIVE,
        release=ReleaseCondition(permitted=permitted, permitted_wording=wording, request_route=route),
        rating_reason=rating_reason,
    )


def decision(
    *,
    items: list[tuple[str, InformationItem]] | None = None,
    outcome: Outcome = Outcome.CHILD_PROTECTION,
    rating: BragRating = BragRating.RED,
    receiving_service: str = "assessment-team",
    referrer: Referrer | None = None,
    rationale: str = "Risk of significant harm; the threshold for a s47 enquiry is met.",
    agencies_consulted: list[str] | None = None,
    subjects: list[Subject] | None = None,
    decision_id: str = "D-1001",
    legacy: bool = False,
    **overrides: Any,
) -> Decision:
    """A decision handing off `items` as the decision service sends it: releasable items in their releasable
    form, the others as references. `legacy=True` sends the whole items, as decisions written before did."""
    chosen = [HandoffItem(agency=agency, item=item) for agency, item in (items or [])]
    if not legacy:
        overrides.setdefault("released_items", [ReleasedItem.of(c.agency, c.item) for c in chosen
                                                if is_releasable(c.item)])
        overrides.setdefault("withheld_items", [WithheldItem.of(c.agency, c.item) for c in chosen
                                                if not is_releasable(c.item)])
        chosen = []
    consulted = agencies_consulted if agencies_consulted is not None else list(dict.fromkeys(a for a, _ in items or []))
    return Decision(
        decision_id=decision_id,
        referral_id="R-2025-0042",
        decided_by="Sam Okafor, MASH manager",
        decided_at=DECIDED_AT,
        referral_received_at=RECEIVED_AT,
        rating=rating,
        outcome=outcome,
        receiving_service=receiving_service,
        rationale=rationale,
        referrer=referrer or professional(),
        subjects=subjects or [child()],
        handoff_items=chosen,
        agencies_consulted=consulted,
        **overrides,
    )


def decision_made(payload: Decision, event_id: uuid.UUID = EVENT_ID) -> DecisionMade:
    return DecisionMade.build(
        payload,
        correlation_id=payload.referral_id,
        producer="decision",
        event_id=event_id,
        occurred_at=DECIDED_AT,
    )


def everything_sent(message: OutgoingMessage) -> str:
    """All the text a message carries out of the hub: subject, body and any JSON body."""
    return "\n".join([message.subject, message.body, message.json_body or ""])
