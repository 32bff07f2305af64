"""Police notification triage: which notices need the hub and which are kept as information.

A hub's police researchers see about 60 notifications a day and keep about 6 for the hub. The rules
are data (rules/police_triage.yaml); the first rule that matches decides, and the table must end with
a default rule, so every notification gets a recorded result and none is dropped.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from mash_schemas.common import SubjectKind
from mash_schemas.police import PoliceNotification, PoliceNotificationType
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from mash_intake.domain.contact_form import police_flag
from mash_intake.domain.rulebook import load_rule_table, parse_rule_table

PACKAGED_RULES = "police_triage.yaml"

NotificationType = PoliceNotificationType  # the contract's list: a rule can name only a type that can arrive
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ADULTHOOD_YEARS = 18
# Flags by which police say children live at an address even when none was present at the incident.
CHILDREN_FLAGS = frozenset({"children_at_address", "children_living_at_address", "child_at_address", "children"})


class _RuleModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TriageConditions(_RuleModel):
    """When a triage rule matches: every condition given must hold; an empty set always matches."""

    notification_types: list[NotificationType] | None = Field(None, min_length=1)
    dash_risk_any: list[Literal["standard", "medium", "high", "none"]] | None = Field(
        None, min_length=1, description="'none' matches a notification without a DASH level."
    )
    children_present: bool | None = Field(None, description="Police recorded children present at the incident.")
    children_involved: bool | None = Field(
        None,
        description="Any sign of a child: present, a child or unborn subject, a household member under 18, "
        "or a flag saying children live at the address.",
    )
    flags_any: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Field(None, min_length=1)
    subject_kinds_any: list[SubjectKind] | None = Field(None, min_length=1)

    @field_validator("flags_any")
    @classmethod
    def _flags_in_rule_spelling(cls, flags: list[str] | None) -> list[str] | None:
        return None if flags is None else [police_flag(flag) for flag in flags]


class TriageRule(_RuleModel):
    """One rule: if the notification matches `when`, it needs the hub (or not), for `reason`."""

    id: RuleId
    when: TriageConditions = Field(default_factory=TriageConditions)
    needs_hub: bool
    reason: Reason


class TriageRules(_RuleModel):
    """A hub's police triage rules, in order; the last rule is the default and matches everything."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    rules: list[TriageRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_with_one_default(self) -> TriageRules:
        ids = [rule.id for rule in self.rules]
        repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(repeated)}")
        defaults = [rule.id for rule in self.rules if _is_default(rule)]
        if not defaults or defaults[-1] != self.rules[-1].id:
            raise ValueError("the last rule must be a default with no conditions, so no notification is dropped")
        if len(defaults) > 1:
            raise ValueError(f"only the last rule may have no conditions; rules after '{defaults[0]}' never apply")
        return self


def _is_default(rule: TriageRule) -> bool:
    return not rule.when.model_dump(exclude_none=True)


class TriageResult(_RuleModel):
    """The triage of one notification: whether it needs the hub, which rule said so, and why."""

    needs_hub: bool
    rule: str
    reason: str


def parse_triage_rules(text: str, *, source: str = "<text>") -> TriageRules:
    """Parse triage rules from YAML text (RuleTableError naming the rule if they are wrong)."""
    return parse_rule_table(text, TriageRules, what="police triage rules", source=source)


def load_triage_rules(path: Path | None = None) -> TriageRules:
    """The hub's police triage rules from `path`, or the packaged default when no path is given."""
    return load_rule_table(path, PACKAGED_RULES, TriageRules, what="police triage rules")


def triage(notification: PoliceNotification, rules: TriageRules) -> TriageResult:
    """Decide whether `notification` needs the hub: the first matching rule wins."""
    for rule in rules.rules:
        if _matches(rule.when, notification):
            return TriageResult(needs_hub=rule.needs_hub, rule=rule.id, reason=rule.reason)
    # The validator makes the last rule match everything; reaching here means the rules were bypassed.
    raise AssertionError("triage rules have no default rule")


def _matches(when: TriageConditions, notification: PoliceNotification) -> bool:
    flags = {police_flag(flag) for flag in notification.flags}
    checks: list[bool] = []
    if when.notification_types is not None:
        checks.append(notification.notification_type in when.notification_types)
    if when.dash_risk_any is not None:
        checks.append((notification.dash_risk or "none") in when.dash_risk_any)
    if when.children_present is not None:
        checks.append(notification.children_present is when.children_present)
    if when.children_involved is not None:
        checks.append(children_involved(notification) is when.children_involved)
    if when.flags_any is not None:
        checks.append(bool(flags.intersection(when.flags_any)))
    if when.subject_kinds_any is not None:
        checks.append(any(subject.kind in when.subject_kinds_any for subject in notification.subjects))
    return all(checks)


def children_involved(notification: PoliceNotification) -> bool:
    """Whether any child is involved: present, a subject, unborn, under 18 in the household, or flagged."""
    if notification.children_present:
        return True
    if any(subject.kind in (SubjectKind.CHILD, SubjectKind.UNBORN_CHILD) for subject in notification.subjects):
        return True
    if CHILDREN_FLAGS.intersection(police_flag(flag) for flag in notification.flags):
        return True
    on = notification.incident_at.date()
    return any(
        member.date_of_birth is not None and _years_between(member.date_of_birth, on) < ADULTHOOD_YEARS
        for member in notification.household
    )


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - (1 if (on.month, on.day) < (born.month, born.day) else 0)
