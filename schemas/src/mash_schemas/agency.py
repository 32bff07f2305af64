"""A partner agency's answer to an enquiry request: items labelled by sensitivity, and its BRAG view."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from mash_schemas.common import AgencyName, BragRating, Model, ShortText
from mash_schemas.envelope import EventEnvelope, derived_event_id
from mash_schemas.practice import SAFETY_SCALE_MEANING, SafetyScale
from mash_schemas.text import ItemText as ItemText


class Sensitivity(StrEnum):
    """Non-sensitive items may be shared onward; sensitive ones stay in the hub without permission."""

    NON_SENSITIVE = "non_sensitive"
    SENSITIVE = "sensitive"


class ReleaseCondition(Model):
    """How the owning agency allows a sensitive item to leave the hub, if at all."""

    permitted: bool = Field(False, description="True only when the owning agency gives permission.")
    permitted_wording: ItemText | None = Field(
        None, description="The form in which the item may be shared; required when permitted."
    )
    request_route: ShortText = Field(
        description="How a receiving professional may request the information from the agency."
    )

    @model_validator(mode="after")
    def _wording_when_permitted(self) -> ReleaseCondition:
        if self.permitted and not self.permitted_wording:
            raise ValueError("permitted_wording is required when release is permitted")
        return self


class InformationItem(Model):
    """One piece of information an agency holds on the family, labelled by the agency."""

    item_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    about: ShortText = Field(description="Whom the item concerns, e.g. 'father', 'Kai Turner'.")
    summary: ItemText
    sensitivity: Sensitivity
    release: ReleaseCondition | None = Field(None, description="Required for a sensitive item.")
    rating_reason: ShortText | None = Field(None, description="Why this item bears on the agency's rating.")

    @model_validator(mode="after")
    def _sensitive_items_say_how_to_release(self) -> InformationItem:
        if self.sensitivity is Sensitivity.SENSITIVE and self.release is None:
            raise ValueError("a sensitive item needs a release condition (even if not permitted)")
        if self.sensitivity is Sensitivity.NON_SENSITIVE and self.release is not None:
            raise ValueError("release applies to sensitive items only")
        return self


class AgencyResponse(Model):
    """What an agency found for one enquiry request, or that it knows nothing of the family."""

    request_id: ShortText
    enquiry_id: ShortText
    referral_id: ShortText
    agency: AgencyName
    responded_by: ShortText
    responded_at: AwareDatetime
    outcome: Literal["information_held", "nothing_known"]
    rating: BragRating | None = Field(None, description="The agency's own BRAG view.")
    safety_scale: SafetyScale | None = Field(
        None, description=f"The agency's own Signs of Safety scale, if it gives one. {SAFETY_SCALE_MEANING}.")
    items: list[InformationItem] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _findings_match_outcome(self) -> AgencyResponse:
        if self.outcome == "nothing_known" and self.items:
            raise ValueError("an agency that knows nothing returns no items")
        if self.outcome == "information_held" and (not self.items or self.rating is None):
            raise ValueError("information_held needs at least one item and the agency's rating")
        return self


class AgencyResponded(EventEnvelope[AgencyResponse]):
    """A partner agency answered an enquiry request, on mash.agency.response.<agency>."""

    event_type: Literal["agency.response"] = "agency.response"


def agency_producer_name(agency: str) -> str:
    """How an agency signs the events it produces (the kit and the hub's agency portal alike)."""
    return f"agency:{agency}"


def agency_response_event_id(request_id: str, agency: str) -> uuid.UUID:
    """The id of `agency`'s response to request `request_id`: one answer per request, however it is sent.

    The kit and the agency portal derive the same id, so an agency that answers twice (a reminder, or
    once by the kit and once on the portal) is stored once.
    """
    return derived_event_id(request_id, f"agency.response/{agency}")
