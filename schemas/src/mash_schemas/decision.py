"""The MASH manager's decision, with its rationale and the information chosen for the hand-off."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.agency import InformationItem
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

# Moved to mash_schemas.items (a transfer carries them too); still importable from here.
from mash_schemas.items import ItemId as ItemId
from mash_schemas.items import ReleasedItem as ReleasedItem
from mash_schemas.items import WithheldItem as WithheldItem
from mash_schemas.items import is_releasable as is_releasable
from mash_schemas.practice import ChildsVoice, RiskAnalysis
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
    risk_analysis: RiskAnalysis | None = Field(
        None, description="The Signs of Safety analysis the manager sanctioned with the rating, in the form that "
        "may leave the hub (an agency's sealed words cut out).")
    childs_voice: ChildsVoice | None = Field(
        None, description="The child's wishes and feelings and the parents' views: known and what, or why not.")
    # Threshold consistency (issue 23): the ratings on the way to the decision, for insight's agreement figures.
    suggested_rating: BragRating | None = Field(None, description="Intake's suggested rating of the contact.")
    screened_rating: BragRating | None = Field(
        None, description="The rating the screener confirmed or changed at screening (none when not screened, "
        "e.g. passed straight to the allocated worker).")
    screened_by: ShortText | None = Field(None, description="Who screened the contact (the desk's user id).")
    screening_rationale_recorded: bool | None = Field(
        None, description="Whether the screener recorded a rationale with the screened rating (required when it "
        "changes the suggested rating). Only whether: the rationale itself stays on the case file.")
    rating_change_rationale_recorded: bool | None = Field(
        None, description="Whether the decided rating, where it differs from the screened one, was recorded with "
        "the manager's rationale. Only whether: the rationale itself is `rationale`.")


class DecisionMade(EventEnvelope[Decision]):
    """The MASH manager decided; notify hands off and feeds back."""

    TOPIC: ClassVar[str] = DECISION_MADE
    event_type: Literal["decision.made"] = "decision.made"
