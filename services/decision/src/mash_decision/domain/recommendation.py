"""The desk's recommendation from a completed enquiry: a BRAG rating, an outcome and a receiving service.

The recommendation weighs every agency's own BRAG view against the hub's threshold rules, never falls
below the screening rating, and says plainly which agencies did not answer. The MASH manager decides;
the recommendation only shows the reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mash_schemas import AgencyFindings, BragRating, EnquiryAddendum, EnquiryOutcome, Outcome
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_OUTCOME_BY_RATING: dict[BragRating, Outcome] = {
    BragRating.RED: Outcome.CHILD_PROTECTION,
    BragRating.AMBER: Outcome.STATUTORY_ASSESSMENT,
    BragRating.GREEN: Outcome.EARLY_HELP,
    BragRating.BLUE: Outcome.UNIVERSAL_SERVICES,
}
DEFAULT_RECEIVING_SERVICES: dict[Outcome, str] = {
    Outcome.CHILD_PROTECTION: "assessment-team",
    Outcome.STATUTORY_ASSESSMENT: "assessment-team",
    Outcome.EARLY_HELP: "early-help",
    Outcome.TARGETED_FAMILY_SUPPORT: "targeted-family-support",
    Outcome.UNIVERSAL_SERVICES: "universal-services",
    Outcome.NO_FURTHER_ACTION: "information-only",
    Outcome.ALLOCATED_WORKER: "allocated-worker",
}


class EscalationRule(BaseModel):
    """A cumulative threshold: when enough agencies rate at or above a level, the case is at least `raises_to`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: int = Field(ge=1, description="How many agencies must agree.")
    rated_at_least: BragRating
    raises_to: BragRating

    def describe(self, count: int, names: Sequence[str]) -> str:
        """The reason line when the rule applies."""
        return (
            f"{count} agencies rated {self.rated_at_least.value} or above ({', '.join(names)}): "
            f"at least {self.raises_to.value}."
        )


class RecommendationRules(BaseModel):
    """A hub's Level of Needs rules for the recommendation, and its receiving services by outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    escalations: tuple[EscalationRule, ...] = (
        EscalationRule(agencies=2, rated_at_least=BragRating.AMBER, raises_to=BragRating.AMBER),
    )
    outcome_by_rating: dict[BragRating, Outcome] = Field(default_factory=lambda: dict(DEFAULT_OUTCOME_BY_RATING))
    receiving_services: dict[Outcome, str] = Field(default_factory=lambda: dict(DEFAULT_RECEIVING_SERVICES))

    @field_validator("outcome_by_rating", mode="before")
    @classmethod
    def _outcome_defaults(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**{rating.value: outcome.value for rating, outcome in DEFAULT_OUTCOME_BY_RATING.items()}, **value}
        return value

    @field_validator("receiving_services", mode="before")
    @classmethod
    def _service_defaults(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**{outcome.value: service for outcome, service in DEFAULT_RECEIVING_SERVICES.items()}, **value}
        return value

    def receiving_service(self, outcome: Outcome) -> str:
        """The hub's default receiving service for `outcome`."""
        return self.receiving_services[outcome]


class AgencyView(BaseModel):
    """One agency's part in the recommendation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str
    rating: BragRating | None
    nothing_known: bool
    sealed_items: int = 0
    late: bool = Field(False, description="Answered after the enquiry completed (an addendum).")
    safety_scale: int | None = Field(
        None, description="The agency's own Signs of Safety scale, if it gave one (the lowest, when it gave two).")


class Recommendation(BaseModel):
    """What the desk recommends, with its reasons as lines of text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rating: BragRating
    outcome: Outcome
    receiving_service: str
    reasons: list[str]
    agencies: list[AgencyView]
    silent_agencies: list[str]

    @property
    def made_without_every_agency(self) -> bool:
        """True when some agency never answered."""
        return bool(self.silent_agencies)


def _views(outcome: EnquiryOutcome, addenda: Sequence[EnquiryAddendum]) -> dict[str, AgencyView]:
    sealed_count: dict[str, int] = {}
    for sealed in [*outcome.sealed, *(item for addendum in addenda for item in addendum.sealed)]:
        sealed_count[sealed.agency] = sealed_count.get(sealed.agency, 0) + 1
    answers: list[tuple[AgencyFindings, bool]] = [(found, False) for found in outcome.findings]
    answers += [(addendum.findings, True) for addendum in addenda]
    views: dict[str, AgencyView] = {}
    for found, late in answers:
        earlier = views.get(found.agency)
        ratings = [r for r in (found.rating, earlier.rating if earlier else None) if r is not None]
        scales = [s for s in (found.safety_scale, earlier.safety_scale if earlier else None) if s is not None]
        views[found.agency] = AgencyView(
            agency=found.agency,
            rating=BragRating.highest(ratings),
            nothing_known=found.outcome == "nothing_known" and (earlier is None or earlier.nothing_known),
            sealed_items=sealed_count.get(found.agency, 0),
            late=late and earlier is None,
            safety_scale=min(scales) if scales else None,
        )
    # An agency whose whole answer is sealed still answered; its items count even with no rating to show.
    for agency, count in sealed_count.items():
        if agency not in views:
            views[agency] = AgencyView(agency=agency, rating=None, nothing_known=False, sealed_items=count)
    return views


def _agency_line(view: AgencyView) -> str:
    late = " (late answer, recorded as an addendum)" if view.late else ""
    if view.safety_scale is not None:
        late = f"; its safety scale {view.safety_scale}/10{late}"
    if view.rating is None:
        if view.nothing_known:
            return f"{view.agency}: nothing known{late}."
        sealed = f" ({view.sealed_items} sealed item(s))" if view.sealed_items else ""
        return f"{view.agency}: information held{sealed}, no rating given{late}."
    sealed = ""
    if view.sealed_items:
        sealed = f", including {view.sealed_items} sealed item(s) that stay in the hub"
    return f"{view.agency} rated {view.rating.value}{sealed}{late}."


def recommend(
    screening_rating: BragRating,
    outcome: EnquiryOutcome,
    addenda: Sequence[EnquiryAddendum] = (),
    rules: RecommendationRules | None = None,
) -> Recommendation:
    """Recommend a rating, outcome and receiving service from a completed enquiry (and any late answers)."""
    rules = rules or RecommendationRules()
    views = _views(outcome, addenda)
    reasons = [f"Screening rating: {screening_rating.value} (the recommendation is never lower)."]
    reasons += [_agency_line(views[name]) for name in sorted(views)]
    rating = screening_rating

    rated = {name: view.rating for name, view in views.items() if view.rating is not None}
    highest = BragRating.highest(list(rated.values()))
    if highest is not None:
        givers = sorted(name for name, given in rated.items() if given is highest)
        reasons.append(f"Highest agency rating: {highest.value} ({', '.join(givers)}).")
        rating = BragRating.highest([rating, highest]) or rating
    for rule in rules.escalations:
        agreeing = sorted(name for name, given in rated.items() if given.severity >= rule.rated_at_least.severity)
        if len(agreeing) >= rule.agencies:
            reasons.append(rule.describe(len(agreeing), agreeing))
            rating = BragRating.highest([rating, rule.raises_to]) or rating

    silent = sorted(set(outcome.not_answered) - set(views))
    if silent:
        reasons.append(f"No answer from {', '.join(silent)}: this recommendation was made without their information.")
    suggested_outcome = rules.outcome_by_rating[rating]
    service = rules.receiving_service(suggested_outcome)
    reasons.append(f"Recommended: {rating.value}, {suggested_outcome.value.replace('_', ' ')}, to {service}.")
    return Recommendation(
        rating=rating,
        outcome=suggested_outcome,
        receiving_service=service,
        reasons=reasons,
        agencies=[views[name] for name in sorted(views)],
        silent_agencies=silent,
    )
