"""Threshold consistency (issue 23 item 3): agreement, ratings changed, step-up and step-down, outcomes by
rating and by safety scale, and drift, in the words inspectors use ("thresholds ... consistently applied",
"drift and delay are avoided").

Computed in two layers. `threshold_counts` gives every count as a number (plain nested dicts, so a test can
compare them with an independent computation from the raw events); `threshold_report` publishes them as the
commissioners' export does: every count under 5 shown as "<5", a rate only where neither its count nor the
rest of its total is under 5 (otherwise the rate would give the small number away), a median or longest time
only over 5 cases or more.

Cohorts: a contact's agreement, change, flow and outcome count in the group its contact was received in, as
the performance figures do; drift is as of a moment (the end of the period, or now if sooner).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mash_runtime.timescales import Timescales
from mash_schemas.common import BragRating
from pydantic import BaseModel, Field

from mash_insight.domain.export import SMALL_NUMBER, suppressed
from mash_insight.domain.facts import AlertFact, ContactFact, DecisionFact
from mash_insight.domain.figures import RATINGS, RE_REFERRAL_WINDOW, TO_EARLY_HELP, TO_SOCIAL_CARE, Facts, hours, median
from mash_insight.domain.periods import Grouping, Period

NOT_RECORDED = "not_recorded"
SCALES = tuple(str(n) for n in range(11))
AGREEMENT_MEASURES = ("decided", "screened", "suggested_screened_agree", "screened_decided_agree", "all_agree",
                      "changed_at_screening", "changed_at_screening_with_rationale", "changed_at_decision",
                      "changed_at_decision_with_rationale")
STEPS = ("screening", "decision")
Counts = dict[str, int]


@dataclass(frozen=True)
class ThresholdCounts:
    """Every threshold figure as a number, before small numbers are suppressed."""

    agreement: dict[str, dict[str, Counts]]  # breakdown -> category -> measure -> count
    changes: dict[str, dict[str, Counts]]  # step -> "from->to" -> {"changed", "with_rationale"}
    flows: dict[str, Counts]  # group label (and "total") -> {"to_early_help", "to_social_care", "step_up", ...}
    outcomes: dict[str, dict[str, Counts]]  # "rating" / "safety_scale" -> category -> outcome -> count
    drift: dict[str, dict[str, float | int | None]]  # rating -> measure -> value

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain dicts (what a test compares)."""
        return {"agreement": self.agreement, "changes": self.changes, "flows": self.flows,
                "outcomes": self.outcomes, "drift": self.drift}


def _agreement(decisions: list[tuple[ContactFact, DecisionFact]]) -> Counts:
    counts = dict.fromkeys(AGREEMENT_MEASURES, 0)
    for _, decision in decisions:
        counts["decided"] += 1
        suggested, screened, decided = decision.suggested_rating, decision.screened_rating, decision.rating
        if suggested is None or screened is None:
            continue
        counts["screened"] += 1
        counts["suggested_screened_agree"] += suggested == screened
        counts["screened_decided_agree"] += screened == decided
        counts["all_agree"] += suggested == screened == decided
        if suggested != screened:
            counts["changed_at_screening"] += 1
            counts["changed_at_screening_with_rationale"] += decision.screening_rationale_recorded is True
        if screened != decided:
            counts["changed_at_decision"] += 1
            counts["changed_at_decision_with_rationale"] += decision.rating_change_rationale_recorded is True
    return counts


def _changes(decisions: list[tuple[ContactFact, DecisionFact]]) -> dict[str, dict[str, Counts]]:
    """Every change of rating, each step's full table of (from, to) pairs, so a missing row never says none."""
    table = {step: {f"{a}->{b}": {"changed": 0, "with_rationale": 0} for a in RATINGS for b in RATINGS if a != b}
             for step in STEPS}
    for _, decision in decisions:
        if decision.suggested_rating is None or decision.screened_rating is None:
            continue
        for step, before, after, explained in (
            ("screening", decision.suggested_rating, decision.screened_rating,
             decision.screening_rationale_recorded),
            ("decision", decision.screened_rating, decision.rating, decision.rating_change_rationale_recorded),
        ):
            row = table[step].get(f"{before}->{after}")
            if row is not None:
                row["changed"] += 1
                row["with_rationale"] += explained is True
    return table


def _flows(contacts: list[ContactFact], all_contacts: list[ContactFact], decisions: dict[str, DecisionFact],
           period: Period, grouping: Grouping) -> dict[str, Counts]:
    """Step-up: a contact decided to social care about a matched child decided to early help within the twelve
    months before it was received; step-down: the other way round."""
    decided_by_ref: dict[str, list[DecisionFact]] = defaultdict(list)
    for contact in all_contacts:
        decision = decisions.get(contact.referral_id)
        if decision is not None:
            for ref in contact.person_refs:
                decided_by_ref[ref].append(decision)

    def after(contact: ContactFact, earlier: frozenset[str]) -> bool:
        return any(other.referral_id != contact.referral_id and other.outcome in earlier
                   and other.decided_at < contact.received_at <= other.decided_at + RE_REFERRAL_WINDOW
                   for ref in contact.person_refs for other in decided_by_ref[ref])

    labels = [*period.labels(grouping), "total"]
    flows = {label: {"to_early_help": 0, "to_social_care": 0, "step_up": 0, "step_down": 0} for label in labels}
    for contact in contacts:
        decision = decisions.get(contact.referral_id)
        if decision is None:
            continue
        for label in (period.label(contact.received_at, grouping), "total"):
            row = flows[label]
            if decision.outcome in TO_SOCIAL_CARE:
                row["to_social_care"] += 1
                row["step_up"] += after(contact, TO_EARLY_HELP)
            elif decision.outcome in TO_EARLY_HELP:
                row["to_early_help"] += 1
                row["step_down"] += after(contact, TO_SOCIAL_CARE)
    return flows


def _outcomes(decided: list[tuple[ContactFact, DecisionFact]]) -> dict[str, dict[str, Counts]]:
    outcomes = sorted({d.outcome for _, d in decided})
    by_rating = {rating: dict.fromkeys(outcomes, 0) for rating in RATINGS}
    by_scale = {scale: dict.fromkeys(outcomes, 0) for scale in (*SCALES, NOT_RECORDED)}
    for _, decision in decided:
        by_rating.setdefault(decision.rating, dict.fromkeys(outcomes, 0))[decision.outcome] += 1
        scale = str(decision.safety_scale) if decision.safety_scale is not None else NOT_RECORDED
        by_scale[scale][decision.outcome] += 1
    return {"rating": by_rating, "safety_scale": by_scale}


def _rating_when_open(contact: ContactFact, alerts: list[AlertFact], as_of: datetime) -> str:
    """The desk's rating of an undecided contact: its latest clock alert's (the screened rating), else intake's."""
    raised = [a for a in alerts if a.raised_at <= as_of]
    return max(raised, key=lambda a: (a.raised_at, a.status)).rating if raised else contact.suggested_rating


def _drift(contacts: list[ContactFact], decisions: dict[str, DecisionFact], alerts: list[AlertFact], period: Period,
           timescales: Timescales, as_of: datetime) -> dict[str, dict[str, float | int | None]]:
    alerts_of: dict[str, list[AlertFact]] = defaultdict(list)
    for alert in alerts:
        alerts_of[alert.referral_id].append(alert)
    past: dict[str, list[float]] = {rating: [] for rating in RATINGS}
    late: dict[str, list[float]] = {rating: [] for rating in RATINGS}
    still_open = dict.fromkeys(RATINGS, 0)

    def over(rating: str, contact: ContactFact, until: datetime) -> float | None:
        deadline = timescales.decision_deadline(BragRating(rating), contact.received_at)
        if until <= deadline.due_at:
            return None
        return hours(timescales.clock(deadline.clock).working_time_between(deadline.due_at, until))

    for contact in contacts:
        if contact.received_at > as_of:
            continue
        decision = decisions.get(contact.referral_id)
        if decision is not None and decision.decided_at <= as_of:
            if decision.rating in late and (taken := over(decision.rating, contact, decision.decided_at)) is not None:
                late[decision.rating].append(taken)
            continue
        rating = _rating_when_open(contact, alerts_of[contact.referral_id], as_of)
        if rating not in still_open:
            continue
        still_open[rating] += 1
        if (waited := over(rating, contact, as_of)) is not None:
            past[rating].append(waited)
    breaches: dict[str, set[str]] = {rating: set() for rating in RATINGS}
    for alert in alerts:
        if alert.status == "breached" and period.contains(alert.raised_at) and alert.rating in breaches:
            breaches[alert.rating].add(alert.referral_id)
    return {rating: {
        "open": still_open[rating],
        "open_past_target": len(past[rating]),
        "median_hours_past_target": median(past[rating]),
        "longest_hours_past_target": round(max(past[rating]), 2) if past[rating] else None,
        "decided_late": len(late[rating]),
        "median_hours_late": median(late[rating]),
        "clock_breaches": len(breaches[rating]),
    } for rating in RATINGS}


def threshold_counts(facts: Facts, period: Period, grouping: Grouping, timescales: Timescales,
                     as_of: datetime) -> ThresholdCounts:
    """Every threshold figure for the contacts received in `period`, drift as of `as_of`."""
    contacts = [c for c in facts.contacts if period.contains(c.received_at)]
    decisions = {d.referral_id: d for d in facts.decisions}
    decided = [(c, decisions[c.referral_id]) for c in contacts if c.referral_id in decisions]
    breakdowns: dict[str, dict[str, list[tuple[ContactFact, DecisionFact]]]] = {
        "all": {"all": decided},
        "source": defaultdict(list), "screener": defaultdict(list), "manager": defaultdict(list),
        "period": {label: [] for label in period.labels(grouping)},
    }
    for contact, decision in decided:
        breakdowns["source"][contact.sector].append((contact, decision))
        breakdowns["screener"][decision.screened_by or NOT_RECORDED].append((contact, decision))
        breakdowns["manager"][decision.decided_by or NOT_RECORDED].append((contact, decision))
        breakdowns["period"][period.label(contact.received_at, grouping)].append((contact, decision))
    return ThresholdCounts(
        agreement={name: {category: _agreement(chosen) for category, chosen in sorted(groups.items())}
                   for name, groups in breakdowns.items()},
        changes=_changes(decided),
        flows=_flows(contacts, facts.contacts, decisions, period, grouping),
        outcomes=_outcomes(decided),
        drift=_drift(contacts, decisions, facts.alerts, period, timescales, as_of),
    )


# ------------------------------------------------------------------ published (small numbers suppressed)


class AgreementRow(BaseModel):
    """Agreement between the suggested, screened and decided ratings for one source, screener, manager or group."""

    breakdown: str = Field(description="all, source (referrer's sector), screener, manager or period.")
    category: str
    decided: str
    screened: str = Field(description="Decided contacts with both a suggested and a screened rating on record.")
    suggested_screened_agree: str
    suggested_screened_agreement_percent: float | None
    screened_decided_agree: str
    screened_decided_agreement_percent: float | None
    all_agree: str
    all_agree_percent: float | None
    changed_at_screening: str
    changed_at_screening_with_rationale: str
    changed_at_decision: str
    changed_at_decision_with_rationale: str


class RatingChange(BaseModel):
    """How often one rating was changed to another, at screening or at the decision, and with a rationale."""

    step: str = Field(description="screening (suggested to screened) or decision (screened to decided).")
    from_rating: str
    to_rating: str
    changed: str
    with_rationale: str


class FlowRow(BaseModel):
    """Step-up and step-down for the contacts received in one group (or the whole period, "total")."""

    label: str
    to_social_care: str
    step_up: str = Field(description="Decided to social care after early help for the same child within 12 months.")
    to_early_help: str
    step_down: str = Field(description="Decided to early help after social care for the same child within 12 months.")


class OutcomeRow(BaseModel):
    """Outcomes of the decided contacts with one rating or one safety scale."""

    breakdown: str = Field(description="rating (the decided rating) or safety_scale (0-10, or not_recorded).")
    category: str
    decided: str
    outcomes: dict[str, str]


class DriftRow(BaseModel):
    """Cases open past their rating's target, and how long; decisions made late."""

    rating: str
    open: str
    open_past_target: str
    median_hours_past_target: float | None = Field(description="On the rating's own clock; shown from 5 cases.")
    longest_hours_past_target: float | None
    decided_late: str
    median_hours_late: float | None
    clock_breaches: str


class ThresholdReport(BaseModel):
    """Threshold consistency over a period: every count under 5 shown as "<5"."""

    first: str
    last: str
    grouping: str
    as_of: str = Field(description="The moment drift is measured at (the end of the period, or now if sooner).")
    agreement: list[AgreementRow]
    changes: list[RatingChange]
    flows: list[FlowRow]
    outcomes: list[OutcomeRow]
    drift: list[DriftRow]


def shown_rate(count: int, of: int) -> float | None:
    """count as a percentage of `of`, unless it or the rest of `of` is a small number (it would give it away)."""
    if count < SMALL_NUMBER or of - count < SMALL_NUMBER:
        return None
    return round(100.0 * count / of, 1)


def _over_five(value: float | int | None, cases: float | int | None) -> float | None:
    return float(value) if value is not None and isinstance(cases, int) and cases >= SMALL_NUMBER else None


def threshold_report(counts: ThresholdCounts, period: Period, grouping: Grouping, as_of: datetime) -> ThresholdReport:
    """The counts as published: small numbers suppressed."""
    agreement = []
    for breakdown, rows in counts.agreement.items():
        for category, c in rows.items():
            agreement.append(AgreementRow(
                breakdown=breakdown, category=category, decided=suppressed(c["decided"]),
                screened=suppressed(c["screened"]),
                suggested_screened_agree=suppressed(c["suggested_screened_agree"]),
                suggested_screened_agreement_percent=shown_rate(c["suggested_screened_agree"], c["screened"]),
                screened_decided_agree=suppressed(c["screened_decided_agree"]),
                screened_decided_agreement_percent=shown_rate(c["screened_decided_agree"], c["screened"]),
                all_agree=suppressed(c["all_agree"]), all_agree_percent=shown_rate(c["all_agree"], c["screened"]),
                changed_at_screening=suppressed(c["changed_at_screening"]),
                changed_at_screening_with_rationale=suppressed(c["changed_at_screening_with_rationale"]),
                changed_at_decision=suppressed(c["changed_at_decision"]),
                changed_at_decision_with_rationale=suppressed(c["changed_at_decision_with_rationale"]),
            ))
    changes = [RatingChange(step=step, from_rating=pair.split("->")[0], to_rating=pair.split("->")[1],
                            changed=suppressed(c["changed"]), with_rationale=suppressed(c["with_rationale"]))
               for step, pairs in counts.changes.items() for pair, c in pairs.items()]
    flows = [FlowRow(label=label, **{k: suppressed(v) for k, v in c.items()}) for label, c in counts.flows.items()]
    outcomes = [OutcomeRow(breakdown=breakdown, category=category, decided=suppressed(sum(c.values())),
                           outcomes={outcome: suppressed(n) for outcome, n in c.items()})
                for breakdown, rows in counts.outcomes.items() for category, c in rows.items()]
    drift = [DriftRow(
        rating=rating, open=suppressed(int(d["open"] or 0)),
        open_past_target=suppressed(int(d["open_past_target"] or 0)),
        median_hours_past_target=_over_five(d["median_hours_past_target"], d["open_past_target"]),
        longest_hours_past_target=_over_five(d["longest_hours_past_target"], d["open_past_target"]),
        decided_late=suppressed(int(d["decided_late"] or 0)),
        median_hours_late=_over_five(d["median_hours_late"], d["decided_late"]),
        clock_breaches=suppressed(int(d["clock_breaches"] or 0)),
    ) for rating, d in counts.drift.items()]
    return ThresholdReport(first=period.first.isoformat(), last=period.last.isoformat(), grouping=grouping.value,
                           as_of=as_of.isoformat(), agreement=agreement, changes=changes, flows=flows,
                           outcomes=outcomes, drift=drift)
