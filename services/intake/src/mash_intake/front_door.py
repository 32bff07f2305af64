"""The front door's use cases: accept a contact, correct it, triage a police notification, follow status.

Each use case reads what it needs, asks the domain rules, and stores the contact with its outgoing
event in one atomic write (the outbox), so an accepted contact is never lost between store and broker.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from mash_runtime.http import DomainError
from mash_runtime.outbox import OutboxEntry
from mash_runtime.store import Change
from mash_schemas.consultation import ConsultationRecorded
from mash_schemas.decision import DecisionMade
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.police import PoliceNotification, PoliceNotificationReceived
from mash_schemas.referral import Referral, ReferralAmended, ReferralReceived, SubjectMatch
from mash_schemas.topics import CONSULTATION_RECORDED, REFERRAL_AMENDED, REFERRAL_RECEIVED

from mash_intake.domain.consultation import ConsultationSubmission, build_consultation
from mash_intake.domain.contact_form import (
    ContactCorrection,
    ContactSubmission,
    build_amendment,
    build_referral,
    referral_from_police_notification,
)
from mash_intake.domain.level_of_needs import LevelOfNeedsTable, RatingIndicators, suggest_rating
from mash_intake.domain.linking import linked_referrals
from mash_intake.domain.matching import KnownPeopleIndex, match_subjects
from mash_intake.domain.triage import TriageRules, triage
from mash_intake.settings import IntakeSettings
from mash_intake.store import IntakeStore

log = logging.getLogger(__name__)
PRODUCER = "intake"
_KEY_NAMESPACE = uuid.UUID("0e4b1b8e-2d0f-4c55-9a39-6b2f1c8a7d10")


class ContactNotFound(DomainError):
    """No contact has that id."""

    status = 404


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key came with a different contact."""

    status = 422


class ContactAlreadyScreened(DomainError):
    """Corrections are taken only before screening; after it, the referrer talks to the hub."""

    status = 409


def new_referral_id(idempotency_key: str | None) -> str:
    """A referral id; the same Idempotency-Key always gives the same id, which makes retries safe."""
    value = uuid.uuid5(_KEY_NAMESPACE, idempotency_key) if idempotency_key else uuid.uuid4()
    return f"MASH-{value.hex[:12].upper()}"


def new_consultation_id(idempotency_key: str | None) -> str:
    """A consultation id; the same Idempotency-Key always gives the same id."""
    value = uuid.uuid5(_KEY_NAMESPACE, f"consultation/{idempotency_key}") if idempotency_key else uuid.uuid4()
    return f"CONS-{value.hex[:12].upper()}"


def police_contact_id(notification: PoliceNotification) -> str:
    """The contact id of a police notification: stable, so a notification sent twice is one contact."""
    return f"POL-{notification.force[:16].upper().replace(' ', '-')}-{notification.notification_id}"


class FrontDoor:
    """Intake's use cases over its store, rule tables and register."""

    def __init__(
        self,
        settings: IntakeSettings,
        store: IntakeStore,
        level_of_needs: LevelOfNeedsTable,
        triage_rules: TriageRules,
    ) -> None:
        self._settings = settings
        self._store = store
        self._level_of_needs = level_of_needs
        self._triage_rules = triage_rules
        self._register = KnownPeopleIndex([])
        self._register_version: Any = None
        self._topic_received = settings.topic(REFERRAL_RECEIVED)
        self._topic_amended = settings.topic(REFERRAL_AMENDED)
        self._topic_consultation = settings.topic(CONSULTATION_RECORDED)

    async def reload_register(self) -> None:
        """Rebuild the in-memory register index if the register was re-imported."""
        version = await self._store.register_version()
        if version is not None and version == self._register_version:
            return
        people = await self._store.known_people()
        self._register = KnownPeopleIndex(people)
        self._register_version = version
        log.info("register loaded", extra={"fields": {"people": len(people)}})

    async def _matches_and_links(
        self, referral_id: str, subjects: Any, now: datetime
    ) -> tuple[list[SubjectMatch], list[str], list[str]]:
        matches = match_subjects(subjects, self._register, on=now.date(), threshold=self._settings.match_threshold)
        refs = sorted({m.person_ref for m in matches})
        window = timedelta(days=self._settings.linking_window_days)
        earlier = await self._store.earlier_contacts(refs, now - window)
        links = linked_referrals(earlier, refs, now=now, window=window, referral_id=referral_id)
        return matches, links, refs

    async def accept_contact(
        self, submission: ContactSubmission, idempotency_key: str | None, source: Literal["web_form", "api"]
    ) -> tuple[str, bool]:
        """Store the contact and its referral.received event; returns (referral id, newly accepted)."""
        referral_id = new_referral_id(idempotency_key)
        fingerprint = hashlib.sha256(submission.model_dump_json().encode()).hexdigest()
        now = datetime.now(UTC)
        rating = suggest_rating(
            RatingIndicators.from_submission(submission, assessed_on=now.date()), self._level_of_needs
        )
        matches, links, refs = await self._matches_and_links(referral_id, submission.subjects, now)
        referral = build_referral(
            submission,
            referral_id=referral_id,
            received_at=now,
            suggested_rating=rating,
            matches=matches,
            linked_referrals=links,
            source=source,
        )
        created = await self._store.contacts.apply(
            referral_id, lambda current: self._new_contact(current, referral, refs, fingerprint)
        )
        if not created:
            existing = await self._store.contacts.get(referral_id)
            if existing is not None and existing.get("fingerprint") != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different contact", field="Idempotency-Key"
                )
        log.info(
            "contact accepted" if created else "contact retry recognised",
            extra={"fields": {"referral_id": referral_id, "source": source}},
        )
        return referral_id, created

    def _new_contact(
        self, current: dict[str, Any] | None, referral: Referral, refs: list[str], fingerprint: str | None
    ) -> Change | None:
        if current is not None:
            return None  # a retry of a contact already stored: nothing to do
        event = ReferralReceived.build(
            referral,
            correlation_id=referral.referral_id,
            producer=PRODUCER,
            event_id=uuid.uuid5(_KEY_NAMESPACE, f"{referral.referral_id}/received"),
        )
        state = {
            "referral_id": referral.referral_id,
            "status": "received",
            "source": referral.source,
            "received_at": referral.received_at,
            "fingerprint": fingerprint,
            "matched_person_refs": refs,
            "suggested_rating": referral.suggested_rating.rating.value,
            "referral": referral.model_dump(mode="json"),
            "amendments": [],
            "history": [{"at": referral.received_at, "what": "contact received"}],
        }
        return Change(state=state, events=[OutboxEntry.of(event, self._topic_received)])

    async def correct_contact(self, referral_id: str, correction: ContactCorrection) -> None:
        """Add a referrer's correction before screening, and tell the manager's desk."""
        now = datetime.now(UTC)
        amendment = build_amendment(correction, referral_id=referral_id, amended_at=now)
        event = ReferralAmended.build(amendment, correlation_id=referral_id, producer=PRODUCER)

        def add(current: dict[str, Any] | None) -> Change:
            if current is None:
                raise ContactNotFound(f"no contact {referral_id}", field="referral_id")
            if current["status"] != "received":
                raise ContactAlreadyScreened("this contact has been screened; contact the hub directly")
            state = {
                **current,
                "amendments": [*current["amendments"], amendment.model_dump(mode="json")],
                "history": [*current["history"], {"at": now, "what": "correction added"}],
            }
            return Change(state=state, events=[OutboxEntry.of(event, self._topic_amended)])

        await self._store.contacts.apply(referral_id, add)

    async def record_consultation(
        self, submission: ConsultationSubmission, idempotency_key: str | None, recorded_by: str
    ) -> tuple[str, bool]:
        """Store advice given without a referral, with its consultation.recorded event; (id, newly recorded)."""
        consultation_id = new_consultation_id(idempotency_key)
        consultation = build_consultation(
            submission, consultation_id=consultation_id, recorded_at=datetime.now(UTC), recorded_by=recorded_by
        )
        fingerprint = hashlib.sha256(submission.model_dump_json().encode()).hexdigest()

        def record(current: dict[str, Any] | None) -> Change | None:
            if current is not None:
                return None  # a retry with the same key
            event = ConsultationRecorded.build(
                consultation, correlation_id=consultation_id, producer=PRODUCER,
                event_id=uuid.uuid5(_KEY_NAMESPACE, f"{consultation_id}/recorded"),
            )
            state = {"consultation_id": consultation_id, "recorded_at": consultation.recorded_at,
                     "fingerprint": fingerprint, "consultation": consultation.model_dump(mode="json")}
            return Change(state=state, events=[OutboxEntry.of(event, self._topic_consultation)])

        created = await self._store.consultations.apply(consultation_id, record)
        if not created:
            existing = await self._store.consultations.get(consultation_id)
            if existing is not None and existing.get("fingerprint") != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different consultation", field="Idempotency-Key"
                )
        log.info("consultation recorded" if created else "consultation retry recognised",
                 extra={"fields": {"consultation_id": consultation_id}})
        return consultation_id, created

    async def status(self, referral_id: str) -> dict[str, Any]:
        """What the referrer may see of their contact: status and outcome, no case detail."""
        contact = await self._store.contacts.get(referral_id)
        if contact is None:
            raise ContactNotFound(f"no contact {referral_id}", field="referral_id")
        return {
            "referral_id": referral_id,
            "status": contact["status"],
            "received_at": contact["received_at"].isoformat(),
            "outcome": contact.get("outcome"),
            "history": [{"at": h["at"].isoformat(), "what": h["what"]} for h in contact["history"]],
        }

    async def receive_police_notification(self, event: PoliceNotificationReceived) -> None:
        """Triage a police notification: a referral if it needs the hub, else kept as information."""
        notification = event.payload
        now = datetime.now(UTC)
        verdict = triage(notification, self._triage_rules)
        contact_id = police_contact_id(notification)
        if not verdict.needs_hub:
            record = {
                "referral_id": contact_id,
                "status": "kept_as_information",
                "source": "police_notification",
                "received_at": now,
                "matched_person_refs": [],
                "triage": verdict.model_dump(),
                "notification": notification.model_dump(mode="json"),
                "amendments": [],
                "history": [{"at": now, "what": f"kept as information: {verdict.reason}"}],
            }
            await self._store.contacts.apply(
                contact_id, lambda current: None if current else Change(state=record), event_id=str(event.event_id)
            )
            log.info(
                "police notification kept as information",
                extra={"fields": {"contact_id": contact_id, "rule": verdict.rule}},
            )
            return
        rating = suggest_rating(
            RatingIndicators.from_police_notification(notification, assessed_on=now.date()), self._level_of_needs
        )
        matches, links, refs = await self._matches_and_links(contact_id, notification.subjects, now)
        referral = referral_from_police_notification(
            notification,
            referral_id=contact_id,
            received_at=now,
            suggested_rating=rating,
            matches=matches,
            linked_referrals=links,
        )

        def accept(current: dict[str, Any] | None) -> Change | None:
            change = self._new_contact(current, referral, refs, None)
            if change is not None:
                change.state["triage"] = verdict.model_dump()
            return change

        await self._store.contacts.apply(contact_id, accept, event_id=str(event.event_id))
        log.info(
            "police notification needs the hub", extra={"fields": {"referral_id": contact_id, "rule": verdict.rule}}
        )

    async def follow_enquiry(self, event: EnquiryOpened) -> None:
        """Screening opened an enquiry: corrections now go to the hub directly."""
        enquiry = event.payload
        await self._follow(enquiry.referral_id, f"enquiry:{enquiry.enquiry_id}", "enquiry_open", "MASH enquiry opened",
                           str(event.event_id))

    async def follow_decision(self, event: DecisionMade) -> None:
        """The hub decided: the status shows the outcome."""
        decision = event.payload
        await self._follow(
            decision.referral_id,
            f"decision:{decision.decision_id}",
            "decided",
            f"decided: {decision.outcome.value}",
            str(event.event_id),
            outcome=decision.outcome.value,
        )

    async def _follow(
        self, referral_id: str, identity: str, status: str, what: str, event_id: str, outcome: str | None = None
    ) -> None:
        """Show another service's step on the contact once per step: `identity` names the step in the domain
        (the enquiry or decision id), so the same step published again under a new event id changes nothing."""

        def update(current: dict[str, Any] | None) -> Change | None:
            if current is None:
                return None  # a referral from another front door (or another hub's namespace)
            followed = current.get("followed", [])
            if identity in followed:
                return None
            state = {
                **current,
                "followed": [*followed, identity],
                "status": status,
                "history": [*current["history"], {"at": datetime.now(UTC), "what": what}],
            }
            if outcome:
                state["outcome"] = outcome
            return Change(state=state)

        await self._store.contacts.apply(referral_id, update, event_id=event_id)
