"""Subject access: a person asks for everything the hub holds about them, and each service answers its part.

The request travels as an event so that every service searches its own database and no service reads
another's. A part carries what the service holds in the form a person may be given once reviewed; a sealed
(sensitive) item an agency supplied is never on this topic: the part names it by reference only (agency,
item id, referral), because its release needs the supplying agency's permission first.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from mash_schemas.common import Model, ShortText
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import (
    SUBJECT_ACCESS_PART,
    SUBJECT_ACCESS_PERMISSION_ANSWERED,
    SUBJECT_ACCESS_PERMISSION_REQUESTED,
    SUBJECT_ACCESS_REQUESTED,
)

HeldText = Annotated[str, StringConstraints(min_length=1, max_length=4_000)]
SEALED_REASON = "sealed: release needs the supplying agency's permission"


class PersonIdentifiers(Model):
    """Who the request is about, as the requester identified them (name, date of birth, case-system ref)."""

    given_name: ShortText | None = None
    family_name: ShortText
    date_of_birth: date | None = None
    person_ref: ShortText | None = Field(None, description="The person's id in the case system, if known.")


class SubjectAccessRequest(Model):
    """A subject access request as each service needs it to search its own records."""

    request_id: ShortText
    person: PersonIdentifiers
    received_at: AwareDatetime
    due_at: AwareDatetime = Field(description="One calendar month from receipt.")
    requested_by: ShortText = Field(description="The manager who started it (token subject), for the audit.")
    referral_ids: list[ShortText] = Field(
        default_factory=list, max_length=500,
        description="Referrals whose case files name the person (decision's search), so that services that "
        "hold no names (notify, insight) can search by referral.",
    )


class HeldItem(Model):
    """One thing a service holds about the person, in a form that may be given to them after review."""

    item_id: ShortText
    kind: ShortText = Field(description="e.g. 'contact', 'case file', 'agency answer', 'delivery', 'figure'.")
    referral_id: ShortText | None = None
    recorded_at: AwareDatetime | None = None
    summary: HeldText
    third_parties: list[ShortText] = Field(
        default_factory=list, max_length=50,
        description="Other people the item names: marked for redaction review before release.",
    )


class WithheldItem(Model):
    """A sealed item, named by reference only: its content never travels on this topic."""

    agency: ShortText
    item_id: ShortText
    referral_id: ShortText | None = None
    reason: ShortText = SEALED_REASON


class SubjectAccessPart(Model):
    """One service's part of the answer."""

    request_id: ShortText
    service: ShortText
    answered_at: AwareDatetime
    items: list[HeldItem] = Field(default_factory=list, max_length=2_000)
    withheld: list[WithheldItem] = Field(default_factory=list, max_length=2_000)


class SubjectAccessRequested(EventEnvelope[SubjectAccessRequest]):
    """A manager started a subject access request (keyed and correlated by the request id)."""

    TOPIC: ClassVar[str] = SUBJECT_ACCESS_REQUESTED
    event_type: Literal["subject-access.requested"] = "subject-access.requested"


class SubjectAccessPartAnswered(EventEnvelope[SubjectAccessPart]):
    """A service answered its part of a subject access request."""

    TOPIC: ClassVar[str] = SUBJECT_ACCESS_PART
    event_type: Literal["subject-access.part"] = "subject-access.part"


class ReleasePermissionRequest(Model):
    """The hub asks the supplying agency whether a sealed item may be released to the person who asked.

    Names the item only by the agency's own reference: the agency holds the item, the hub never sends it back.
    """

    permission_id: ShortText = Field(description="<request_id>:<agency>:<item_id>, one per sealed item.")
    request_id: ShortText
    agency: ShortText
    item_id: ShortText
    referral_id: ShortText | None = None
    requested_at: AwareDatetime
    due_on: date = Field(description="The subject access request's due day, so the agency knows the deadline.")


class ReleasePermissionAnswer(Model):
    """The supplying agency's answer: the item may be released to the person, or not."""

    permission_id: ShortText
    request_id: ShortText
    agency: ShortText
    item_id: ShortText
    permitted: bool
    answered_by: ShortText
    answered_at: AwareDatetime
    note: Annotated[str, StringConstraints(max_length=1_000)] | None = Field(
        None, description="The agency's reason, e.g. why release would prejudice an investigation.")


class SubjectAccessPermissionRequested(EventEnvelope[ReleasePermissionRequest]):
    """Decision asks an agency's permission to release one sealed item (read by enquiry, for the portal)."""

    TOPIC: ClassVar[str] = SUBJECT_ACCESS_PERMISSION_REQUESTED
    event_type: Literal["subject-access.permission-requested"] = "subject-access.permission-requested"


class SubjectAccessPermissionAnswered(EventEnvelope[ReleasePermissionAnswer]):
    """The agency answered on the portal (published by enquiry, read by decision)."""

    TOPIC: ClassVar[str] = SUBJECT_ACCESS_PERMISSION_ANSWERED
    event_type: Literal["subject-access.permission-answered"] = "subject-access.permission-answered"
