"""The retention schedule as data: record kind and outcome give how long, from when, and what happens then.

The hub's data protection officer owns the schedule, not the code: the packaged default
(`retention.yaml` beside this module) follows a council's typical schedule and a deployment replaces it
with `MASH_RETENTION_FILE` (docs/governance.md). Pure: no database, broker or clock; the sweepers
(mash_runtime.governance) ask it when a record falls due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from importlib.resources import files
from pathlib import Path

from mash_schemas.governance import ErasureAction, RecordKind
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mash_runtime.config_files import load_config

ANY_OUTCOME = "*"
UNKNOWN_OUTCOME = "unknown"  # a service holding a copy without knowing the decision (enquiry): the longest rule


class ClockStart(StrEnum):
    """What starts a record's retention clock."""

    RECEIVED = "received"  # the contact arrived at the front door (a subject access request: it was received)
    DECIDED = "decided"  # the MASH manager decided (received, while undecided)
    RECORDED = "recorded"  # the record was written (a consultation, an audit record, a dead letter)


class Keep(BaseModel):
    """A period, in calendar years, months and days."""

    model_config = ConfigDict(extra="forbid")

    years: int = Field(0, ge=0, le=100)
    months: int = Field(0, ge=0, le=1200)
    days: int = Field(0, ge=0, le=36500)

    def after(self, start: datetime) -> datetime:
        """`start` plus this period (29 February becomes 28 February in a year without it)."""
        months = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, _days_in(year, month))
        return start.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def approximately(self) -> timedelta:
        """A lower bound of the period, for the sweepers' first filter and Kafka's retention.ms."""
        return timedelta(days=365 * self.years + 28 * self.months + self.days)


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


class RetentionRule(BaseModel):
    """One row of the schedule."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: RecordKind
    outcome: str = Field(ANY_OUTCOME, description="A decision outcome, 'unknown', or '*' for any.")
    keep: Keep
    starts: ClockStart = Field(alias="from")
    until_birthday: int | None = Field(
        None, ge=1, le=100,
        description="Keep at least until the youngest child's birthday of this age (e.g. 25), if later.")
    then: ErasureAction = ErasureAction.ERASE
    figures: ErasureAction = Field(
        ErasureAction.ANONYMISE, description="What insight does with its figures about the record.")
    note: str = ""

    @property
    def name(self) -> str:
        """How the rule is named in erasure events and audit records, e.g. 'contact/no_further_action'."""
        return f"{self.kind.value}/{self.outcome}"


@dataclass(frozen=True)
class RetainedRecord:
    """What a sweeper knows about one subject's record, to find its rule and its date."""

    referral_id: str
    kind: RecordKind
    outcome: str | None
    received_at: datetime
    decided_at: datetime | None = None
    birth_dates: tuple[date, ...] = field(default_factory=tuple)
    # False where the service does not hold the children's dates of birth (insight): a rule that depends on
    # them never falls due there; the owning service's erasure event removes the copy instead.
    birth_dates_known: bool = True
    # Where the sweeper's paging resumes (the document's _id, when it is not the referral id).
    position: str | None = None
    # Referrals whose legal hold keeps this record too: a subject access request is its own subject, but it
    # holds what it disclosed of each referral, and a complaint about one may be about how it was answered.
    held_with: tuple[str, ...] = ()


class RetentionSchedule(BaseModel):
    """Every rule; the most specific (kind and outcome, else kind and '*') applies."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RetentionRule] = Field(min_length=1)
    topics: dict[str, Keep] = Field(
        default_factory=dict,
        description="retention.ms of the hub's topics by base name ('*' for any other), set when created.")

    @model_validator(mode="after")
    def _every_kind_has_a_default(self) -> RetentionSchedule:
        named = {(rule.kind, rule.outcome) for rule in self.rules}
        missing = [kind.value for kind in RecordKind if (kind, ANY_OUTCOME) not in named]
        if missing:
            raise ValueError(f"each kind needs a rule with outcome '*': missing for {', '.join(missing)}")
        if len(named) != len(self.rules):
            raise ValueError("two rules name the same kind and outcome")
        return self

    def rule_for(self, kind: RecordKind, outcome: str | None) -> RetentionRule:
        """The rule for `kind` with `outcome` (None: not decided yet, which is the kind's '*' rule)."""
        by_key = {(rule.kind, rule.outcome): rule for rule in self.rules}
        return by_key.get((kind, outcome or ANY_OUTCOME)) or by_key[(kind, ANY_OUTCOME)]

    def due_at(self, record: RetainedRecord) -> datetime:
        """When `record` passes its retention date."""
        rule = self.rule_for(record.kind, record.outcome)
        start = record.received_at
        if rule.starts is ClockStart.DECIDED and record.decided_at is not None:
            start = record.decided_at
        due = rule.keep.after(start)
        if rule.until_birthday is not None and not record.birth_dates_known:
            return datetime.max.replace(tzinfo=start.tzinfo)
        if rule.until_birthday is not None and record.birth_dates:
            youngest = max(record.birth_dates)
            birthday = Keep(years=rule.until_birthday).after(datetime.combine(youngest, time(), start.tzinfo))
            due = max(due, birthday)
        return due

    def shortest(self, kind: RecordKind) -> timedelta:
        """The shortest period of any rule of `kind`: nothing younger needs looking at."""
        return min(rule.keep.approximately() for rule in self.rules if rule.kind is kind)

    def topic_retention(self, base_topic: str) -> timedelta | None:
        """How long the broker keeps `base_topic`'s records (None: the broker's default)."""
        keep = self.topics.get(base_topic) or self.topics.get(ANY_OUTCOME)
        return keep.approximately() if keep is not None else None


def load_retention_schedule(path: Path | str | None = None) -> RetentionSchedule:
    """The schedule at `path`, or the packaged default."""
    source = path or files("mash_runtime") / "retention.yaml"
    return load_config(source, RetentionSchedule, what="retention schedule")
