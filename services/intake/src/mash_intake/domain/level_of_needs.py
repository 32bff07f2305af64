"""Intake's initial BRAG suggestion, from the hub's Level of Needs (threshold) guidance kept as data.

The table (rules/level_of_needs.yaml) lists indicators, each giving at least a rating when it fires,
and modifiers applied afterwards. The suggestion is the highest rating any indicator gives, then
modified; every rule that fired is named in the reasons so the screener can see why.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from mash_schemas.common import BragRating, ConcernCategory, Subject, SubjectKind
from mash_schemas.police import PoliceNotification
from mash_schemas.referral import SuggestedRating
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from mash_intake.domain.contact_form import ContactSubmission, police_concern
from mash_intake.domain.rulebook import load_rule_table, parse_rule_table

PACKAGED_TABLE = "level_of_needs.yaml"

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=2, max_length=60)]
DashRisk = Literal["standard", "medium", "high"]


class _TableModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Conditions(_TableModel):
    """When a rule fires: every condition given must hold (an omitted condition is not checked)."""

    categories_any: list[ConcernCategory] | None = Field(None, min_length=1)
    keywords_any: list[Keyword] | None = Field(
        None, min_length=1, description="Words or word beginnings, e.g. 'bruis' for bruise/bruising."
    )
    keywords_also_any: list[Keyword] | None = Field(
        None, min_length=1, description="A second group, one of which must also appear (drugs AND children)."
    )
    subject_kinds_any: list[SubjectKind] | None = Field(None, min_length=1)
    child_under_months: int | None = Field(
        None, gt=0, le=216, description="A child subject is younger than this (from date of birth or estimated age)."
    )
    dash_risk_any: list[DashRisk] | None = Field(None, min_length=1)
    min_categories: int | None = Field(None, ge=2, le=16, description="At least this many distinct categories.")

    @model_validator(mode="after")
    def _says_something(self) -> Conditions:
        if not self.model_dump(exclude_none=True):
            raise ValueError("a rule needs at least one condition under 'when'")
        if self.keywords_also_any is not None and self.keywords_any is None:
            raise ValueError("keywords_also_any needs keywords_any")
        return self


class Indicator(_TableModel):
    """A Level of Needs indicator: when it fires, the suggestion is at least `rating`."""

    id: RuleId
    when: Conditions
    rating: BragRating
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Modifier(_TableModel):
    """Applied after the indicators: raise to at least a rating, or step up by some levels."""

    id: RuleId
    when: Conditions
    at_least: BragRating | None = None
    step_up: int | None = Field(None, ge=1, le=3)
    at_most: BragRating | None = Field(None, description="A step up never goes beyond this rating.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]

    @model_validator(mode="after")
    def _one_effect(self) -> Modifier:
        if (self.at_least is None) == (self.step_up is None):
            raise ValueError("a modifier needs exactly one of at_least or step_up")
        return self


class DefaultRating(_TableModel):
    """The suggestion when no indicator fires."""

    rating: BragRating
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class LevelOfNeedsTable(_TableModel):
    """A hub's Level of Needs guidance as indicators, modifiers and a default."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    indicators: list[Indicator] = Field(min_length=1)
    modifiers: list[Modifier] = Field(default_factory=list)
    default: DefaultRating

    @field_validator("modifiers")
    @classmethod
    def _ids_unique_in_modifiers(cls, modifiers: list[Modifier]) -> list[Modifier]:
        _refuse_repeated_ids([modifier.id for modifier in modifiers])
        return modifiers

    @field_validator("indicators")
    @classmethod
    def _ids_unique_in_indicators(cls, indicators: list[Indicator]) -> list[Indicator]:
        _refuse_repeated_ids([indicator.id for indicator in indicators])
        return indicators


def _refuse_repeated_ids(ids: list[str]) -> None:
    repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if repeated:
        raise ValueError(f"rule ids must be unique; repeated: {', '.join(repeated)}")


def parse_level_of_needs(text: str, *, source: str = "<text>") -> LevelOfNeedsTable:
    """Parse a Level of Needs table from YAML text (RuleTableError naming the entry if it is wrong)."""
    return parse_rule_table(text, LevelOfNeedsTable, what="Level of Needs table", source=source)


def load_level_of_needs(path: Path | None = None) -> LevelOfNeedsTable:
    """The hub's Level of Needs table from `path`, or the packaged default when no path is given."""
    return load_rule_table(path, PACKAGED_TABLE, LevelOfNeedsTable, what="Level of Needs table")


class RatingIndicators(BaseModel):
    """What the rating looks at, whatever the front door: categories, words, subjects, DASH level."""

    model_config = ConfigDict(frozen=True)

    categories: list[ConcernCategory]
    narrative: str
    subjects: list[Subject]
    dash_risk: DashRisk | None = None
    assessed_on: date = Field(description="The day the contact arrived, to work out children's ages.")

    @classmethod
    def from_submission(cls, submission: ContactSubmission, *, assessed_on: date) -> RatingIndicators:
        """Indicators of a contact submitted over HTTP; the actions taken count as the referrer's words."""
        concern = submission.concern
        words = f"{concern.narrative}\n{concern.actions_taken or ''}"
        return cls(
            categories=concern.categories, narrative=words, subjects=submission.subjects, assessed_on=assessed_on
        )

    @classmethod
    def from_police_notification(cls, notification: PoliceNotification, *, assessed_on: date) -> RatingIndicators:
        """Indicators of a police notification, including its DASH risk level."""
        concern = police_concern(notification)
        return cls(
            categories=concern.categories,
            narrative=notification.narrative,
            subjects=notification.subjects,
            dash_risk=notification.dash_risk,
            assessed_on=assessed_on,
        )


def suggest_rating(indicators: RatingIndicators, table: LevelOfNeedsTable) -> SuggestedRating:
    """The initial BRAG suggestion for a contact, with a reason for every rule that fired."""
    text = indicators.narrative.casefold()
    fired = [indicator for indicator in table.indicators if _holds(indicator.when, indicators, text)]
    if fired:
        rating = max((indicator.rating for indicator in fired), key=lambda brag: brag.severity)
        reasons = [f"{indicator.reason} (rule '{indicator.id}': {indicator.rating.value})" for indicator in fired]
    else:
        rating = table.default.rating
        reasons = [f"{table.default.reason} (default: {rating.value})"]
    for modifier in table.modifiers:
        if not _holds(modifier.when, indicators, text):
            continue
        modified = _apply(modifier, rating)
        if modified is not rating:
            reasons.append(f"{modifier.reason} (rule '{modifier.id}': {rating.value} -> {modified.value})")
            rating = modified
    return SuggestedRating(rating=rating, reasons=reasons)


_SCALE = sorted(BragRating, key=lambda brag: brag.severity)


def _apply(modifier: Modifier, rating: BragRating) -> BragRating:
    if modifier.at_least is not None:
        return modifier.at_least if modifier.at_least.severity > rating.severity else rating
    assert modifier.step_up is not None  # the table's validator guarantees one of the two
    stepped = _SCALE[min(rating.severity + modifier.step_up, len(_SCALE) - 1)]
    if modifier.at_most is not None and stepped.severity > modifier.at_most.severity:
        return rating if rating.severity >= modifier.at_most.severity else modifier.at_most
    return stepped


def _holds(when: Conditions, indicators: RatingIndicators, text: str) -> bool:
    """True when every condition given in `when` holds for this contact."""
    categories = set(indicators.categories)
    checks: list[bool] = []
    if when.categories_any is not None:
        checks.append(bool(categories.intersection(when.categories_any)))
    if when.keywords_any is not None:
        checks.append(_mentions_any(text, when.keywords_any))
    if when.keywords_also_any is not None:
        checks.append(_mentions_any(text, when.keywords_also_any))
    if when.subject_kinds_any is not None:
        checks.append(any(subject.kind in when.subject_kinds_any for subject in indicators.subjects))
    if when.child_under_months is not None:
        checks.append(_has_child_under(indicators, when.child_under_months))
    if when.dash_risk_any is not None:
        checks.append(indicators.dash_risk in when.dash_risk_any)
    if when.min_categories is not None:
        # 'Other' says nothing about the kind of harm, so it does not count towards several concerns.
        checks.append(len(categories - {ConcernCategory.OTHER}) >= when.min_categories)
    return all(checks)


def _mentions_any(text: str, keywords: list[str]) -> bool:
    # Keywords match at the start of a word, so 'bruis' finds 'bruised' and 'bruising' but not 'abruise'.
    return _keyword_pattern(tuple(keywords)).search(text) is not None


@lru_cache(maxsize=1024)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled pattern for a rule's keyword group: any keyword at the start of a word.

    Built once per group of the loaded table and kept (the profile showed the front door spending about 2% of its
    samples rebuilding and looking up one pattern per keyword for every contact); it finds a match exactly when
    one of the keywords, searched for alone, would.
    """
    return re.compile(r"\b(?:" + "|".join(re.escape(keyword) for keyword in keywords) + ")")


def _has_child_under(indicators: RatingIndicators, months: int) -> bool:
    for subject in indicators.subjects:
        if subject.kind is not SubjectKind.CHILD:
            continue
        age = age_in_months(subject, indicators.assessed_on)
        if age is not None and age < months:
            return True
    return False


def age_in_months(subject: Subject, on: date) -> int | None:
    """A subject's age in whole months on `on`; from an estimated age in years when no date of birth."""
    born = subject.date_of_birth
    if born is not None:
        months = (on.year - born.year) * 12 + (on.month - born.month) - (1 if on.day < born.day else 0)
        return max(months, 0)
    if subject.estimated_age is not None:
        return subject.estimated_age * 12
    return None
