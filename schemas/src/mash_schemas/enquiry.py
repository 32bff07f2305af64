"""MASH enquiry events: opened by the manager's desk, fanned out to agencies, completed with findings."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from mash_schemas.agency import InformationItem
from mash_schemas.common import AgencyName, BragRating, Consent, HouseholdMember, Model, ShortText, Subject
from mash_schemas.envelope import EventEnvelope
from mash_schemas.practice import SafetyScale
from mash_schemas.topics import ENQUIRY_ADDENDUM, ENQUIRY_COMPLETED, ENQUIRY_OPENED


class Enquiry(Model):
    """An enquiry the MASH manager opened: which agencies, by when, on what lawful basis."""

    enquiry_id: ShortText
    referral_id: ShortText
    rating: BragRating
    agencies: list[AgencyName] = Field(min_length=1, max_length=30)
    due_at: AwareDatetime
    subjects: list[Subject] = Field(min_length=1)
    household: list[HouseholdMember] = Field(default_factory=list)
    questions: list[ShortText] = Field(default_factory=list)
    consent: Consent = Field(description="Consent as re-checked before the enquiry.")
    lawful_basis: ShortText = Field(description="e.g. 'Children Act 1989 s17 with consent', 's47 without consent'.")
    opened_by: ShortText


class EnquiryOpened(EventEnvelope[Enquiry]):
    """The MASH manager opened an enquiry with chosen agencies."""

    TOPIC: ClassVar[str] = ENQUIRY_OPENED
    event_type: Literal["enquiry.opened"] = "enquiry.opened"


class EnquiryRequest(Model):
    """What one agency needs to search its records: data minimised to identifying details."""

    request_id: ShortText
    enquiry_id: ShortText
    referral_id: ShortText
    agency: AgencyName
    subjects: list[Subject] = Field(min_length=1)
    household: list[HouseholdMember] = Field(default_factory=list)
    questions: list[ShortText] = Field(default_factory=list)
    due_at: AwareDatetime
    lawful_basis: ShortText
    consent_position: ShortText
    reminder_number: int = Field(0, ge=0, description="0 for the request itself, 1.. for reminders.")


class EnquiryRequested(EventEnvelope[EnquiryRequest]):
    """The research desk asked an agency, on mash.enquiry.request.<agency>."""

    event_type: Literal["enquiry.request"] = "enquiry.request"


class AgencyFindings(Model):
    """An agency's answer as collated: its rating and its non-sensitive items."""

    agency: AgencyName
    outcome: Literal["information_held", "nothing_known"]
    rating: BragRating | None = None
    safety_scale: SafetyScale | None = Field(None, description="The agency's own Signs of Safety scale (0 to 10).")
    responded_at: AwareDatetime
    items: list[InformationItem] = Field(default_factory=list, description="Non-sensitive items only.")


class SealedItem(Model):
    """A sensitive item in clear: stays inside the hub unless its agency's release condition permits.

    The decision service holds items in this form on its case files (sealed at rest). On the wire the
    hub sends them only as `EncryptedItem`s; `sealed` on the enquiry events is kept for reading events
    written before that change and is empty in everything the hub now publishes.
    """

    agency: AgencyName
    item: InformationItem


Base64Text = Annotated[str, StringConstraints(min_length=1, max_length=100_000, pattern=r"^[A-Za-z0-9_-]+={0,2}$")]
TransitAlgorithm = Literal["RSA-OAEP-256+A256GCM"]
TRANSIT_ALGORITHM: TransitAlgorithm = "RSA-OAEP-256+A256GCM"


class EncryptedItem(Model):
    """A sensitive item sealed for one reader, the decision service: nobody else on the topic can open it.

    Envelope encryption: the item's JSON is encrypted with a fresh AES-256-GCM data key, and that key is
    wrapped with the decision service's RSA-OAEP (SHA-256) public key named by `key_id` (so keys can be
    rotated: decision keeps its older private keys until nothing sealed for them is left). The
    additional authenticated data binds the ciphertext to the referral, the agency and the item id, so it
    cannot be replayed onto another case or passed off as another agency's. Only the agency and the
    item's id (the agency's own reference) are in clear.
    """

    agency: AgencyName
    item_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    algorithm: TransitAlgorithm = TRANSIT_ALGORITHM
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$")] = Field(
        description="SHA-256 fingerprint (hex, first 16 bytes) of the public key that wrapped the data key."
    )
    wrapped_key: Base64Text = Field(description="The AES-256 data key, RSA-OAEP-wrapped (url-safe base64).")
    nonce: Base64Text = Field(description="The 96-bit AES-GCM nonce (url-safe base64).")
    ciphertext: Base64Text = Field(description="The item's JSON, AES-GCM encrypted with its tag (url-safe base64).")


class EnquiryOutcome(Model):
    """The collated result of an enquiry. `findings` is the part that may be shared; sensitive items are not.

    Sensitive items travel in `encrypted`, sealed for the decision service; `sealed` (items in clear) is
    only read, for events written before encryption in transit, and only the decision service fills it,
    on its own case file, once it has opened `encrypted`.
    """

    enquiry_id: ShortText
    referral_id: ShortText
    completed_at: AwareDatetime
    completion: Literal["all_answered", "due_time_passed"]
    findings: list[AgencyFindings] = Field(default_factory=list)
    sealed: list[SealedItem] = Field(
        default_factory=list, description="Deprecated on the wire (always empty from the hub): items in clear."
    )
    encrypted: list[EncryptedItem] = Field(
        default_factory=list, description="Sensitive items, each encrypted for the decision service's key."
    )
    not_answered: list[AgencyName] = Field(default_factory=list)


class EnquiryCompleted(EventEnvelope[EnquiryOutcome]):
    """Every agency answered, or the due time passed; carries the collated findings."""

    TOPIC: ClassVar[str] = ENQUIRY_COMPLETED
    event_type: Literal["enquiry.completed"] = "enquiry.completed"


class EnquiryAddendum(Model):
    """An agency's answer that arrived after the enquiry completed: kept, never dropped."""

    enquiry_id: ShortText
    referral_id: ShortText
    findings: AgencyFindings
    sealed: list[SealedItem] = Field(
        default_factory=list, description="Deprecated on the wire (always empty from the hub): items in clear."
    )
    encrypted: list[EncryptedItem] = Field(
        default_factory=list, description="Sensitive items, each encrypted for the decision service's key."
    )


class EnquiryAddendumRecorded(EventEnvelope[EnquiryAddendum]):
    """A late agency answer, forwarded to the case file as an addendum."""

    TOPIC: ClassVar[str] = ENQUIRY_ADDENDUM
    event_type: Literal["enquiry.addendum"] = "enquiry.addendum"
