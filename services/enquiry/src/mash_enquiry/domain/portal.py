"""The agency portal's answer: what a school, nursery or GP practice without IT integration sends.

The portal's form gives the same answer the kit builds from an adapter: an outcome, the agency's own
BRAG view and items each labelled shareable or sensitive (a sensitive item says whether, and in what
wording, it may leave the hub). Turning it into an `AgencyResponse` here keeps one shape for both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from mash_schemas import AgencyResponse, BragRating, EnquiryRequest, InformationItem
from mash_schemas.agency import ItemText, ReleaseCondition, Sensitivity
from mash_schemas.common import ShortText
from mash_schemas.practice import SAFETY_SCALE_MEANING, SafetyScale
from pydantic import BaseModel, ConfigDict, Field, model_validator


class PortalItem(BaseModel):
    """One item as the portal's form gives it."""

    model_config = ConfigDict(extra="forbid")

    about: ShortText
    summary: ItemText
    sensitivity: Sensitivity
    rating_reason: ShortText | None = None
    release_permitted: bool = False
    permitted_wording: ItemText | None = None
    request_route: ShortText | None = Field(
        None, description="How a professional may ask for a sensitive item (defaults to the agency's MASH contact)."
    )

    def item(self, item_id: str, agency: str) -> InformationItem:
        """The contract's item; a sensitive one carries its release condition."""
        release = None
        if self.sensitivity is Sensitivity.SENSITIVE:
            release = ReleaseCondition(
                permitted=self.release_permitted,
                permitted_wording=self.permitted_wording if self.release_permitted else None,
                request_route=self.request_route or f"ask the {agency} MASH single point of contact",
            )
        return InformationItem(item_id=item_id, about=self.about, summary=self.summary,
                               sensitivity=self.sensitivity, release=release, rating_reason=self.rating_reason)


class AgencyAnswerForm(BaseModel):
    """The portal's answer to one request."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["information_held", "nothing_known"]
    rating: BragRating | None = None
    safety_scale: SafetyScale | None = Field(
        None, description=f"The agency's own Signs of Safety scale, if it gives one. {SAFETY_SCALE_MEANING}.")
    items: Annotated[list[PortalItem], Field(max_length=20)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _items_match_outcome(self) -> AgencyAnswerForm:
        if self.outcome == "nothing_known" and self.items:
            raise ValueError("an agency that knows nothing returns no items")
        if self.outcome == "information_held" and not self.items:
            raise ValueError("items: add at least one item, or answer that nothing is known")
        if self.outcome == "information_held" and self.rating is None:
            raise ValueError("rating: give the agency's rating when it holds information")
        for item in self.items:
            if item.sensitivity is Sensitivity.SENSITIVE and item.release_permitted and not item.permitted_wording:
                raise ValueError("permitted_wording: say in what words a sensitive item may be shared")
        return self

    def response(self, request: EnquiryRequest, by: str, now: datetime) -> AgencyResponse:
        """The agency response to `request`, answered by `by` at `now`."""
        return AgencyResponse(
            request_id=request.request_id,
            enquiry_id=request.enquiry_id,
            referral_id=request.referral_id,
            agency=request.agency,
            responded_by=by,
            responded_at=now,
            outcome=self.outcome,
            rating=self.rating if self.outcome == "information_held" else None,
            safety_scale=self.safety_scale,
            items=[item.item(f"{request.agency}-portal-{n}", request.agency) for n, item in enumerate(self.items, 1)],
        )
