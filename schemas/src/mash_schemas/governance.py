"""Information governance in the contract: the lawful basis a record is held on, erasure and legal holds.

A subject's records are spread over every service's database. When one service's retention sweeper erases
them it says so once, on `mash.subject.erased` keyed by the referral, and every other service drops its own
copies; a MASH manager's legal hold (a case under review, a complaint, a learning review) travels on
`mash.legal.hold` so that every service knows of it without reading another's database.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.common import Model, ShortText
from mash_schemas.envelope import EventEnvelope
from mash_schemas.text import Note
from mash_schemas.topics import LEGAL_HOLD, SUBJECT_ERASED

Reason = Note


class LawfulBasis(Model):
    """The basis in law on which the hub holds and shares a record (UK GDPR and the DPA 2018).

    Every contact records it when it is received, from intake's configuration, so that the basis relied on
    at the time stays with the record even if the hub's configuration changes later.
    """

    article_6: ShortText = Field(description="UK GDPR Art. 6(1) condition, e.g. '6(1)(e) public task'.")
    article_9: ShortText | None = Field(
        None, description="UK GDPR Art. 9(2) condition for special category data, e.g. '9(2)(g) substantial "
                          "public interest'.")
    dpa_2018_condition: ShortText | None = Field(
        None, description="DPA 2018 Schedule 1 condition, e.g. 'Sch. 1 para 18 safeguarding of children and of "
                          "individuals at risk'.")
    statute: ShortText | None = Field(None, description="The duty relied on, e.g. 'Children Act 1989 s17, s47'.")


class RecordKind(StrEnum):
    """What a record is, for the retention schedule."""

    CONTACT = "contact"
    CONSULTATION = "consultation"
    AUDIT_RECORD = "audit_record"
    DEAD_LETTER = "dead_letter"
    # A subject access request and what belongs to it (its parts, agencies' permission requests): it names the
    # person, so it has its own rule; its erasure event carries the request id where a contact's has the referral.
    SUBJECT_ACCESS_REQUEST = "subject_access_request"


class ErasureAction(StrEnum):
    """What happens to a record past its date: erased, or kept without anything that identifies anyone."""

    ERASE = "erase"
    ANONYMISE = "anonymise"


class SubjectErasure(Model):
    """One subject's records passed their retention date in one service, which erased them."""

    referral_id: ShortText = Field(
        description="The referral erased (a consultation's id for a consultation, a subject access request's id "
                    "for a subject access request).")
    record_kind: RecordKind
    action: ErasureAction
    rule: ShortText = Field(description="The schedule's rule that applied, e.g. 'contact/no_further_action'.")
    erased_at: AwareDatetime
    erased_by: ShortText = Field(description="The service whose sweeper found it due.")


class SubjectErased(EventEnvelope[SubjectErasure]):
    """A subject's records passed their retention date: every service drops its copies (idempotent)."""

    TOPIC: ClassVar[str] = SUBJECT_ERASED
    event_type: Literal["subject.erased"] = "subject.erased"


class HoldReason(StrEnum):
    """Why a MASH manager stopped a referral's records being erased."""

    CASE_UNDER_REVIEW = "case_under_review"
    COMPLAINT = "complaint"
    LEARNING_REVIEW = "learning_review"
    LEGAL_PROCEEDINGS = "legal_proceedings"


class LegalHold(Model):
    """A legal hold placed on, or lifted from, a referral's records; while placed nothing of it is erased."""

    referral_id: ShortText
    state: Literal["placed", "lifted"]
    reason: HoldReason
    note: Reason = Field(description="Why, in the manager's words (no case content).")
    by: ShortText
    at: AwareDatetime


class LegalHoldChanged(EventEnvelope[LegalHold]):
    """A MASH manager placed or lifted a legal hold; every service keeps the latest state locally."""

    TOPIC: ClassVar[str] = LEGAL_HOLD
    event_type: Literal["legal.hold"] = "legal.hold"
