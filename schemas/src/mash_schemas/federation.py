"""Events between hubs of a region (issue 20): a contact transferred to the hub whose area the family lives in.

`contact.transferred` travels on the receiving hub's own `mash.federation.transfer` topic and carries only
what the transfer needs; `transfer.sent` stays in the sending hub, for its referrer notice and its figures.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from mash_schemas.common import BragRating, Consent, HouseholdMember, Model, Referrer, ShortText, Subject
from mash_schemas.envelope import EventEnvelope
from mash_schemas.referral import Concern, HubId, TransferOrigin
from mash_schemas.topics import FEDERATION_TRANSFER, TRANSFER_SENT


class TransferredContact(Model):
    """A contact one hub passes to another: the contact itself, and its origin (the link back and findings).

    Its identity is `transfer_id` (the sending hub and its referral id): the receiving hub recognises a
    repeat by it, whatever the event id.
    """

    transfer_id: Annotated[str, StringConstraints(min_length=3, max_length=240)] = Field(
        description="<sending hub id>/<sending referral id>: one transfer per sending referral.")
    to_hub: HubId
    source: Literal["web_form", "api", "police_notification"]
    received_at: AwareDatetime = Field(description="When the sending hub first received the contact.")
    referrer: Referrer
    subjects: list[Subject] = Field(min_length=1, max_length=20)
    household: list[HouseholdMember] = Field(default_factory=list, max_length=30)
    concern: Concern
    consent: Consent
    origin: TransferOrigin


class ContactTransferred(EventEnvelope[TransferredContact]):
    """A hub transferred a contact to the hub whose area the family lives in (on the receiving hub's topic)."""

    TOPIC: ClassVar[str] = FEDERATION_TRANSFER
    event_type: Literal["contact.transferred"] = "contact.transferred"


class TransferNotice(Model):
    """The sending hub's own record that a contact left it: for the referrer's notice and the figures."""

    transfer_id: Annotated[str, StringConstraints(min_length=3, max_length=240)]
    referral_id: ShortText
    from_hub: HubId
    to_hub: HubId
    to_hub_name: ShortText
    transferred_at: AwareDatetime
    rating: BragRating
    referrer: Referrer


class TransferSent(EventEnvelope[TransferNotice]):
    """A contact was transferred out of this hub; its case file is closed as transferred."""

    TOPIC: ClassVar[str] = TRANSFER_SENT
    event_type: Literal["transfer.sent"] = "transfer.sent"
