"""A contact at the front door, from arrival to the hub's decision: its states and the rules between them.

A contact is received (it needs the hub and became a referral) or kept as information (a police
notification that did not need the hub). A received contact may be corrected by its referrer until
screening begins; after that, the steps other services take (an enquiry opened, a decision) are shown
on it, each step once, however often its event arrives. The class is pure: the store maps it to and
from its document (mash_intake.store), the front door decides with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mash_schemas.police import PoliceNotification
from mash_schemas.referral import Referral, ReferralAmendment

from mash_intake.domain.police_routing import routing_note
from mash_intake.domain.triage import TriageResult

ContactStatus = Literal["received", "kept_as_information", "enquiry_open", "decided", "transferred"]


class ScreeningHasBegun(Exception):
    """A referrer's correction came after screening began: it must now go to the hub directly."""


@dataclass(frozen=True)
class HistoryLine:
    """One line of what the referrer sees happened to their contact."""

    at: datetime
    what: str


@dataclass
class Contact:
    """One contact and what has happened to it.

    `referral` and `notification` are kept as the JSON they were accepted as: the contact is the record
    of what was received, read back as received, never re-validated against a newer model.
    """

    referral_id: str
    status: ContactStatus
    source: str
    received_at: datetime
    matched_person_refs: list[str]
    history: list[HistoryLine]
    amendments: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: str | None = None
    suggested_rating: str | None = None
    referral: dict[str, Any] | None = None
    triage: dict[str, Any] | None = None
    notification: dict[str, Any] | None = None
    followed: list[str] = field(default_factory=list)
    outcome: str | None = None

    @classmethod
    def received(cls, referral: Referral, person_refs: list[str], fingerprint: str | None,
                 triage: TriageResult | None = None) -> Contact:
        """A contact that needs the hub: it becomes the referral `referral`.

        `fingerprint` identifies the submission behind an Idempotency-Key (None for police notifications,
        whose identity is the force's notification id).
        """
        return cls(
            referral_id=referral.referral_id,
            status="received",
            source=referral.source,
            received_at=referral.received_at,
            matched_person_refs=list(person_refs),
            history=[HistoryLine(referral.received_at, "contact received")] + (
                [HistoryLine(referral.received_at, f"transferred here by {referral.transferred_from.hub_name}")]
                if referral.transferred_from is not None else []),
            fingerprint=fingerprint,
            suggested_rating=referral.suggested_rating.rating.value,
            referral=referral.model_dump(mode="json"),
            triage=triage.model_dump() if triage is not None else None,
        )

    @classmethod
    def kept_as_information(cls, contact_id: str, notification: PoliceNotification, verdict: TriageResult,
                            now: datetime) -> Contact:
        """A police notification triaged as not needing the hub: kept, with the rule's reason, and no referral."""
        return cls(
            referral_id=contact_id,
            status="kept_as_information",
            source="police_notification",
            received_at=now,
            matched_person_refs=[],
            history=[HistoryLine(now, f"kept as information: {verdict.reason}"),
                     *([HistoryLine(now, note)] if (note := routing_note(notification.routing)) else [])],
            triage=verdict.model_dump(),
            notification=notification.model_dump(mode="json"),
        )

    def is_same_submission(self, fingerprint: str | None) -> bool:
        """Whether a retry under the same Idempotency-Key carried the very contact first sent."""
        return self.fingerprint == fingerprint

    def correct(self, amendment: ReferralAmendment, now: datetime) -> None:
        """Add the referrer's correction; refused once screening has begun (the desk is working on the case)."""
        if self.status != "received":
            raise ScreeningHasBegun(self.referral_id)
        self.amendments.append(amendment.model_dump(mode="json"))
        self.history.append(HistoryLine(now, "correction added"))

    def follow(self, step: str, status: ContactStatus, what: str, now: datetime, outcome: str | None = None) -> bool:
        """Show another service's step once; False when `step` (the enquiry or decision id) was shown already.

        The step's identity, not the event's id, is what makes a repeat: the same decision published again
        under a new event id changes nothing.
        """
        if step in self.followed:
            return False
        self.followed.append(step)
        self.status = status
        self.history.append(HistoryLine(now, what))
        if outcome:
            self.outcome = outcome
        return True
