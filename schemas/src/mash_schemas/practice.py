"""The front door's reasoning, as inspectors ask to see it: the risk analysis and the child's voice.

**Signs of Safety** (Turnell and Edwards): the screener's analysis in three columns (what we are worried
about; what is working well; what needs to happen) and a safety scale from 0 to 10, sanctioned by the
manager together with the BRAG rating. **The child's voice** (Working Together): whether the child's
wishes and feelings, and the parents' views, are known, what they are, and if not, why not.

Both are additive and optional on the events that carry them (decision.made); an older reader ignores them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from mash_schemas.common import Model
from mash_schemas.text import ItemText, Note

SAFETY_SCALE_MEANING = (
    "0: harm is certain to happen or happen again; "
    "10: there is enough safety for the hub to close its involvement"
)

SafetyScale = Annotated[int, Field(ge=0, le=10, description=f"The Signs of Safety scale. {SAFETY_SCALE_MEANING}.")]

# One statement in a column of the analysis: what a textarea sends, line breaks kept.
Statement = ItemText


class RiskAnalysis(Model):
    """The Signs of Safety analysis: three columns and a safety scale (0 to 10).

    Every column may be empty (a blue contact may hold no danger statement); the scale is always given.
    """

    # What are we worried about?
    harm: Statement | None = Field(None, description="Worried about: harm that has happened.")
    danger_statements: Statement | None = Field(
        None, description="Worried about: what we fear will happen to the child if nothing changes.")
    complicating_factors: Statement | None = Field(
        None, description="Worried about: what makes the situation harder to resolve.")
    # What is working well?
    strengths: Statement | None = Field(None, description="Working well: the family's strengths.")
    existing_safety: Statement | None = Field(
        None, description="Working well: safety already shown, over time, when the danger was present.")
    # What needs to happen?
    safety_goals: Statement | None = Field(
        None, description="Needs to happen: what the hub needs to see for the child to be safe enough.")
    next_steps: Statement | None = Field(None, description="Needs to happen: the next steps, and who takes them.")
    safety_scale: SafetyScale

    def statements(self) -> dict[str, str]:
        """The columns' statements that were given, by field name, in the order of the analysis."""
        return {name: value for name in STATEMENT_FIELDS if (value := getattr(self, name)) is not None}

    def with_statements(self, change: dict[str, str]) -> RiskAnalysis:
        """The same analysis with some statements replaced (e.g. sealed text cut out for a hand-off)."""
        return self.model_copy(update=change)


STATEMENT_FIELDS = ("harm", "danger_statements", "complicating_factors", "strengths", "existing_safety",
                    "safety_goals", "next_steps")
# How the columns are headed wherever the analysis is shown (case file, preview, hand-off).
COLUMNS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("What are we worried about?", (("harm", "Harm that has happened"), ("danger_statements", "Danger statements"),
                                    ("complicating_factors", "Complicating factors"))),
    ("What is working well?", (("strengths", "Strengths"), ("existing_safety", "Existing safety"))),
    ("What needs to happen?", (("safety_goals", "Safety goals"), ("next_steps", "Next steps"))),
)


class ViewsNotKnown(StrEnum):
    """Why a child's wishes and feelings, or the parents' views, are not known."""

    TOO_YOUNG = "too_young"  # the child is too young to say (never a reason for the parents)
    WOULD_PUT_CHILD_AT_RISK = "would_put_child_at_risk"  # seeking them would put the child at risk
    NOT_YET_POSSIBLE = "not_yet_possible"


NOT_KNOWN_WORDING = {
    ViewsNotKnown.TOO_YOUNG: "the child is too young to give them",
    ViewsNotKnown.WOULD_PUT_CHILD_AT_RISK: "seeking them would put the child at risk",
    ViewsNotKnown.NOT_YET_POSSIBLE: "not yet possible",
}


class Views(Model):
    """Whether someone's views are known: what they are, or why they are not known."""

    known: bool
    views: ItemText | None = Field(None, description="What they are, in the person's own words where possible.")
    not_known_because: ViewsNotKnown | None = None
    detail: Note | None = Field(None, description="More on why not (e.g. when it will be possible).")

    @model_validator(mode="after")
    def _an_answer(self) -> Views:
        if self.known and self.views is None:
            raise ValueError("say what the views are, or record that they are not known and why")
        if self.known and self.not_known_because is not None:
            raise ValueError("views that are known need no reason for not being known")
        if not self.known and self.not_known_because is None:
            raise ValueError("say why the views are not known: too young, would put the child at risk, "
                             "or not yet possible")
        if not self.known and self.views is not None:
            raise ValueError("views that are not known cannot be recorded; say why they are not known")
        return self


class ChildsVoice(Model):
    """The child's wishes and feelings and the parents' views: known, and what, or why not."""

    child: Views = Field(description="The child's wishes and feelings (for an adult at risk: their own wishes).")
    parents: Views = Field(description="The parents' (or family's) views.")

    @model_validator(mode="after")
    def _parents_are_not_too_young(self) -> ChildsVoice:
        if self.parents.not_known_because is ViewsNotKnown.TOO_YOUNG:
            raise ValueError("'too young' is a reason for the child's views only")
        return self


def views_line(views: Views) -> str:
    """One line saying what the views are, or why they are not known."""
    if views.known:
        return views.views or ""
    why = NOT_KNOWN_WORDING[views.not_known_because] if views.not_known_because else "not known"
    return f"Not known: {why}" + (f" ({views.detail})" if views.detail else "")
