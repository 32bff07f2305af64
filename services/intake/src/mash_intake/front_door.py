"""The front door's use cases: accept a contact, correct it, triage a police notification, follow status.

Each use case reads what it needs, asks the domain rules, and stores the contact with its outgoing
event in one atomic write (the outbox), so an accepted contact is never lost between store and broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from mash_runtime.audit import AuditLog
from mash_runtime.batching import StoreBatch
from mash_runtime.clock import Clock
from mash_runtime.http import DomainError
from mash_runtime.outbox import OutboxEntry
from mash_schemas.consultation import ConsultationRecorded
from mash_schemas.decision import DecisionMade
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.federation import ContactTransferred, TransferSent
from mash_schemas.governance import LawfulBasis
from mash_schemas.police import PoliceNotification, PoliceNotificationReceived
from mash_schemas.referral import Referral, ReferralAmended, ReferralReceived, SubjectMatch
from mash_schemas.topics import CONSULTATION_RECORDED, REFERRAL_AMENDED, REFERRAL_RECEIVED

from mash_intake.domain.consultation import ConsultationSubmission, build_consultation
from mash_intake.domain.contact import Contact, ScreeningHasBegun
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
from mash_intake.domain.register import parse_register_csv, parse_register_json
from mash_intake.domain.transfer_in import (
    TransferNotForThisHub,
    receiving_rating,
    referral_from_transfer,
    transfer_contact_id,
)
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


class TransferMisaddressed(DomainError):
    """A transfer for another hub reached this one: refused, never taken in (see TransferNotForThisHub)."""

    status = 422


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
    """Intake's use cases over its store, rule tables and register, at the time its clock says."""

    def __init__(
        self,
        settings: IntakeSettings,
        store: IntakeStore,
        level_of_needs: LevelOfNeedsTable,
        triage_rules: TriageRules,
        clock: Clock,
        lawful_basis: LawfulBasis | None = None,
        audit: AuditLog | None = None,
        hub_id: str | None = None,
    ) -> None:
        self._settings = settings
        self._audit = audit
        # Which hub of the region this front door is (None: a single hub); a transfer must be addressed to it.
        self._hub_id = hub_id
        self._lawful_basis = lawful_basis
        self._store = store
        self._level_of_needs = level_of_needs
        self._triage_rules = triage_rules
        self._clock = clock
        self._register = KnownPeopleIndex([])
        self._register_version: Any = None
        self._topic_received = settings.topic(REFERRAL_RECEIVED)
        self._topic_amended = settings.topic(REFERRAL_AMENDED)
        self._topic_consultation = settings.topic(CONSULTATION_RECORDED)
        # Contacts arriving together inserted together (mash_runtime.batching), when the setting asks for it.
        self._group_commit = (StoreBatch(settings.group_commit_ms / 1000, most=settings.group_commit_most)
                              if settings.group_commit_ms > 0 else None)

    async def import_register_file(self, path: Path) -> int:
        """Import the local authority's known-people export (CSV or JSON); refuses a file with bad rows."""
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        result = parse_register_json(text) if path.suffix.lower() == ".json" else parse_register_csv(text)
        result.raise_for_problems()
        return await self._store.import_register(list(result.people), self._clock())

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
        now = self._clock()
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
        ).model_copy(update={"lawful_basis": self._lawful_basis})
        contact = Contact.received(referral, refs, fingerprint)
        # A new contact is the rule and a retry under the same Idempotency-Key the exception: insert without
        # reading first (the profile showed the read as a quarter of the front door's store time); a retry's
        # insert fails on the id and is read and recognised as before.

        def decide(current: Contact | None) -> tuple[Contact, list[OutboxEntry]] | None:
            return self._receive(current, contact, referral)

        with self._group_commit.joined() if self._group_commit is not None else contextlib.nullcontext():
            created = await self._store.change_contact(referral_id, decide, likely_new=True)
        if not created:
            existing = await self._store.contact(referral_id)
            if existing is not None and not existing.is_same_submission(fingerprint):
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different contact", field="Idempotency-Key"
                )
        log.info(
            "contact accepted" if created else "contact retry recognised",
            extra={"fields": {"referral_id": referral_id, "source": source}},
        )
        return referral_id, created

    def _receive(
        self, current: Contact | None, contact: Contact, referral: Referral
    ) -> tuple[Contact, list[OutboxEntry]] | None:
        """Keep a new contact with its referral.received event; a contact stored already is a retry (nothing)."""
        if current is not None:
            return None
        event = ReferralReceived.build(
            referral,
            correlation_id=referral.referral_id,
            producer=PRODUCER,
            event_id=uuid.uuid5(_KEY_NAMESPACE, f"{referral.referral_id}/received"),
        )
        return contact, [OutboxEntry.of(event, self._topic_received)]

    async def correct_contact(self, referral_id: str, correction: ContactCorrection) -> None:
        """Add a referrer's correction before screening, and tell the manager's desk."""
        now = self._clock()
        amendment = build_amendment(correction, referral_id=referral_id, amended_at=now)
        event = ReferralAmended.build(amendment, correlation_id=referral_id, producer=PRODUCER)

        def decide(current: Contact | None) -> tuple[Contact, list[OutboxEntry]]:
            if current is None:
                raise ContactNotFound(f"no contact {referral_id}", field="referral_id")
            try:
                current.correct(amendment, now)
            except ScreeningHasBegun as exc:
                raise ContactAlreadyScreened("this contact has been screened; contact the hub directly") from exc
            return current, [OutboxEntry.of(event, self._topic_amended)]

        await self._store.change_contact(referral_id, decide)

    async def record_consultation(
        self, submission: ConsultationSubmission, idempotency_key: str | None, recorded_by: str
    ) -> tuple[str, bool]:
        """Store advice given without a referral, with its consultation.recorded event; (id, newly recorded)."""
        consultation_id = new_consultation_id(idempotency_key)
        consultation = build_consultation(
            submission, consultation_id=consultation_id, recorded_at=self._clock(), recorded_by=recorded_by
        )
        fingerprint = hashlib.sha256(submission.model_dump_json().encode()).hexdigest()
        event = ConsultationRecorded.build(
            consultation, correlation_id=consultation_id, producer=PRODUCER,
            event_id=uuid.uuid5(_KEY_NAMESPACE, f"{consultation_id}/recorded"),
        )
        created = await self._store.record_consultation(
            consultation, fingerprint=fingerprint, event=OutboxEntry.of(event, self._topic_consultation)
        )
        if not created and await self._store.consultation_fingerprint(consultation_id) not in (None, fingerprint):
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different consultation", field="Idempotency-Key"
            )
        log.info("consultation recorded" if created else "consultation retry recognised",
                 extra={"fields": {"consultation_id": consultation_id}})
        return consultation_id, created

    async def status(self, referral_id: str) -> dict[str, Any]:
        """What the referrer may see of their contact: status and outcome, no case detail."""
        contact = await self._store.contact(referral_id)
        if contact is None:
            raise ContactNotFound(f"no contact {referral_id}", field="referral_id")
        return {
            "referral_id": referral_id,
            "status": contact.status,
            "received_at": contact.received_at.isoformat(),
            "outcome": contact.outcome,
            "history": [{"at": line.at.isoformat(), "what": line.what} for line in contact.history],
        }

    async def receive_police_notification(self, event: PoliceNotificationReceived) -> None:
        """Triage a police notification: a referral if it needs the hub, else kept as information."""
        notification = event.payload
        now = self._clock()
        verdict = triage(notification, self._triage_rules)
        contact_id = police_contact_id(notification)
        if not verdict.needs_hub:
            await self._keep_as_information(
                Contact.kept_as_information(contact_id, notification, verdict, now), str(event.event_id))
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
        ).model_copy(update={"lawful_basis": self._lawful_basis})
        contact = Contact.received(referral, refs, None, triage=verdict)

        def decide(current: Contact | None) -> tuple[Contact, list[OutboxEntry]] | None:
            return self._receive(current, contact, referral)

        await self._store.change_contact(contact_id, decide, event_id=str(event.event_id))
        log.info(
            "police notification needs the hub", extra={"fields": {"referral_id": contact_id, "rule": verdict.rule}}
        )

    async def _keep_as_information(self, kept: Contact, event_id: str) -> None:
        """Keep a police notification that does not need the hub, once (a repeat finds it kept)."""

        def decide(current: Contact | None) -> tuple[Contact, list[OutboxEntry]] | None:
            return None if current else (kept, [])

        await self._store.change_contact(kept.referral_id, decide, event_id=event_id)

    async def receive_transfer(self, event: ContactTransferred) -> None:
        """Take a contact another hub transferred here as a new contact, once per transfer, and audit it.

        The contact id derives from the transfer's identity (sending hub and referral), so the same transfer
        redelivered, or published again under another event id, finds its contact and stores nothing new.
        """
        transferred = event.payload
        contact_id = transfer_contact_id(transferred.transfer_id)
        now = self._clock()
        own = suggest_rating(RatingIndicators(
            categories=transferred.concern.categories,
            narrative=f"{transferred.concern.narrative}\n{transferred.concern.actions_taken or ''}",
            subjects=transferred.subjects, assessed_on=now.date()), self._level_of_needs)
        matches, links, refs = await self._matches_and_links(contact_id, transferred.subjects, now)
        try:
            referral = referral_from_transfer(
                transferred, this_hub=self._hub_id, referral_id=contact_id, received_at=now,
                suggested_rating=receiving_rating(own, transferred), matches=matches, linked_referrals=links,
            ).model_copy(update={"lawful_basis": self._lawful_basis})
        except TransferNotForThisHub as exc:
            raise TransferMisaddressed(str(exc)) from exc
        contact = Contact.received(referral, refs, None)
        taken: list[bool] = []

        def decide(current: Contact | None) -> tuple[Contact, list[OutboxEntry]] | None:
            # The store's answer counts an event id newly marked as seen; only a new contact is a new transfer.
            taken[:] = [current is None]
            return self._receive(current, contact, referral)

        await self._store.change_contact(contact_id, decide, event_id=str(event.event_id))
        created = bool(taken) and taken[0]
        if created and self._audit is not None:
            origin = transferred.origin
            await self._audit.record(
                who=f"hub:{origin.hub_id}", action="transfer_received", referral_id=contact_id,
                why=origin.reason, what={"transfer_id": transferred.transfer_id, "from_hub": origin.hub_id,
                                         "from_referral_id": origin.referral_id,
                                         "shared_findings": len(origin.shared_findings),
                                         "sealed_references": len(origin.sealed_references)})
        log.info("transfer received" if created else "transfer repeat recognised",
                 extra={"fields": {"referral_id": contact_id, "transfer_id": transferred.transfer_id}})

    async def follow_transfer(self, event: TransferSent) -> None:
        """This hub transferred the contact away: the status says where the concern went."""
        notice = event.payload
        await self._follow(notice.referral_id, str(event.event_id),
                           lambda contact, now: contact.follow(f"transfer:{notice.transfer_id}", "transferred",
                                                               f"passed to {notice.to_hub_name}", now,
                                                               outcome=f"transferred to {notice.to_hub_name}"))

    async def follow_enquiry(self, event: EnquiryOpened) -> None:
        """Screening opened an enquiry: corrections now go to the hub directly."""
        enquiry = event.payload
        await self._follow(enquiry.referral_id, str(event.event_id),
                           lambda contact, now: contact.follow(f"enquiry:{enquiry.enquiry_id}", "enquiry_open",
                                                               "MASH enquiry opened", now))

    async def follow_decision(self, event: DecisionMade) -> None:
        """The hub decided: the status shows the outcome."""
        decision = event.payload
        outcome = decision.outcome.value
        await self._follow(decision.referral_id, str(event.event_id),
                           lambda contact, now: contact.follow(f"decision:{decision.decision_id}", "decided",
                                                               f"decided: {outcome}", now, outcome=outcome))

    async def _follow(
        self, referral_id: str, event_id: str, show: Callable[[Contact, datetime], bool]
    ) -> None:
        """Show another service's step on the contact once per step (Contact.follow says what a repeat is)."""
        now = self._clock()

        def decide(current: Contact | None) -> tuple[Contact, list[OutboxEntry]] | None:
            if current is None:
                return None  # a referral from another front door (or another hub's namespace)
            return (current, []) if show(current, now) else None

        await self._store.change_contact(referral_id, decide, event_id=event_id)
