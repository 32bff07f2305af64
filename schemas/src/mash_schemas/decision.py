"""The MASH manager's decision, with its rationale and the information chosen for the hand-off."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from mash_schemas.agency import InformationItem, ItemText, Sensitivity
from mash_schemas.common import (
    AgencyName,
    AllocatedWorker,
    BragRating,
    Consent,
    Model,
    Referrer,
    ShortText,
    Subject,
)
from mash_schemas.envelope import EventEnvelope
from mash_schemas.governance import LawfulBasis
from mash_schemas.referral import Concern
from mash_schemas.text import Rationale
from mash_schemas.topics import DECISION_MADE


class Outcome(StrEnum):
    """What the hub decided should happen next."""

    CHILD_PROTECTION = "child_protection"  # s47 enquiry, strategy discussion
    STATUTORY_ASSESSMENT = "statutory_assessment"  # child in need, s17
    EARLY_HELP = "early_help"
    TARGETED_FAMILY_SUPPORT = "targeted_family_support"
    UNIVERSAL_SERVICES = "universal_services"  # universal services and advice
    NO_FURTHER_ACTION = "no_further_action"  # information only
    ALLOCATED_WORKER = "allocated_worker"  # passed to the social worker already allocated


class HandoffItem(Model):
    """Deprecated on the wire (the hub no longer sends it): a whole item chosen for the hand-off.

    Kept so that decisions written before `released_items` and `withheld_items` can still be read.
    """

    agency: AgencyName
    item: InformationItem


ItemId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ReleasedItem(Model):
    """An item that may leave the hub, in the only form it may leave in.

    A non-sensitive item goes as the agency wrote it (`about` and its summary as `wording`); a sensitive
    item whose agency permits release goes only in the agency's permitted wording, without `about`
    (whom it concerns may itself be part of what the agency sealed).
    """

    agency: AgencyName
    item_id: ItemId
    basis: Literal["non_sensitive", "released_by_agency"]
    about: ShortText | None = None
    wording: ItemText

    @classmethod
    def of(cls, agency: str, item: InformationItem) -> ReleasedItem:
        """The releasable form of `item`; ValueError for a sensitive item its agency has not released."""
        if item.sensitivity is Sensitivity.NON_SENSITIVE:
            return cls(agency=agency, item_id=item.item_id, basis="non_sensitive", about=item.about,
                       wording=item.summary)
        if item.release is None or not item.release.permitted or not item.release.permitted_wording:
            raise ValueError(f"item {item.item_id!r} of {agency} may not leave the hub")
        return cls(agency=agency, item_id=item.item_id, basis="released_by_agency",
                   wording=item.release.permitted_wording)


class WithheldItem(Model):
    """A reference to a sensitive item whose agency has not permitted release: who holds it and how to ask.

    It carries no content: the receiving service is told only that the agency holds information and
    the agency's own route for requesting it.
    """

    agency: AgencyName
    item_id: ItemId
    request_route: ShortText

    @classmethod
    def of(cls, agency: str, item: InformationItem) -> WithheldItem:
        """The reference to a sensitive item; ValueError for an item that has no release condition."""
        if item.release is None:
            raise ValueError(f"item {item.item_id!r} of {agency} is not a sensitive item")
        return cls(agency=agency, item_id=item.item_id, request_route=item.release.request_route)


def is_releasable(item: InformationItem) -> bool:
    """True for a non-sensitive item, or a sensitive one its agency permits to leave the hub."""
    if item.sensitivity is Sensitivity.NON_SENSITIVE:
        return True
    return item.release is not None and item.release.permitted and bool(item.release.permitted_wording)


class Decision(Model):
    """The decision on a referral, as recorded by the MASH manager (or the routing rule)."""

    decision_id: ShortText
    referral_id: ShortText
    decided_by: ShortText
    decided_at: AwareDatetime
    referral_received_at: AwareDatetime
    rating: BragRating
    outcome: Outcome
    receiving_service: ShortText = Field(description="Configured service id, e.g. 'assessment-team'.")
    allocated_worker: AllocatedWorker | None = None
    rationale: Rationale
    referrer: Referrer
    subjects: list[Subject] = Field(min_length=1)
    concern: Concern | None = Field(
        None, description="The concern as referred (the hub's own information), for the receiving service."
    )
    handoff_items: list[HandoffItem] = Field(
        default_factory=list, description="Deprecated on the wire (always empty from the hub): whole items."
    )
    released_items: list[ReleasedItem] = Field(
        default_factory=list, description="Items the manager chose for the hand-off, each in its releasable form."
    )
    withheld_items: list[WithheldItem] = Field(
        default_factory=list,
        description="Every sensitive item on the case its agency has not released: a reference and how to "
        "request it, never its content.",
    )
    agencies_consulted: list[AgencyName] = Field(default_factory=list)
    within_timescale: bool = True
    route: Literal["screening", "enquiry", "allocated_worker"] = "enquiry"
    lawful_basis: LawfulBasis | None = Field(
        None, description="The basis the hub holds and shares the referral on, as recorded when it was received.")
    consent: Consent | None = Field(
        None, description="The consent position at the decision: given, refused, not sought or overridden, with why.")


class DecisionMade(EventEnvelope[Decision]):
    """The MASH manager decided; notify hands off and feeds back."""

    TOPIC: ClassVar[str] = DECISION_MADE
    event_type: Literal["decision.made"] = "decision.made"
