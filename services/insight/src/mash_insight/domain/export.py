"""The commissioners' export: counts by month (or week, or day), area, source and outcome, as CSV, with
every count under 5 shown as "<5" so that no family can be picked out of a small number.

Only counts are exported (no percentages, which would give a small number away through its total),
and every row of a breakdown is written for every group of the period, so a missing row never says
"none" either: a count of 0 is under 5 and is shown as "<5" too.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable

from mash_insight.domain.facts import ContactFact, DecisionFact
from mash_insight.domain.figures import TO_EARLY_HELP, TO_SOCIAL_CARE, Facts, re_referrals
from mash_insight.domain.periods import Grouping, Period

SMALL_NUMBER = 5
SUPPRESSED = "<5"
COLUMNS = ("period", "breakdown", "category", "measure", "value")


def suppressed(count: int) -> str:
    """A count as published: itself from 5 up, "<5" below."""
    return str(count) if count >= SMALL_NUMBER else SUPPRESSED


def export_rows(facts: Facts, period: Period, grouping: Grouping) -> list[tuple[str, str, str, str, int]]:
    """Every (group, breakdown, category, measure, count) of the export, before suppression."""
    contacts = [c for c in facts.contacts if period.contains(c.received_at)]
    decisions = {d.referral_id: d for d in facts.decisions}
    again = re_referrals(facts.contacts)
    consultations = [c for c in facts.consultations if period.contains(c.recorded_at)]
    districts = sorted({c.district or "unknown" for c in contacts})
    sectors = sorted({c.sector for c in contacts})
    outcomes = sorted({decisions[c.referral_id].outcome for c in contacts if c.referral_id in decisions})
    rows: list[tuple[str, str, str, str, int]] = []
    for label in period.labels(grouping):
        mine = [c for c in contacts if period.label(c.received_at, grouping) == label]
        decided = [decisions[c.referral_id] for c in mine if c.referral_id in decisions]
        rows += [
            (label, "all", "all", "contacts", len(mine)),
            (label, "all", "all", "decided", len(decided)),
            (label, "all", "all", "to_social_care", sum(d.outcome in TO_SOCIAL_CARE for d in decided)),
            (label, "all", "all", "to_early_help", sum(d.outcome in TO_EARLY_HELP for d in decided)),
            (label, "all", "all", "re_referrals", sum(c.referral_id in again for c in mine)),
            (label, "all", "all", "consultations",
             sum(period.label(c.recorded_at, grouping) == label for c in consultations)),
        ]
        rows += _breakdown(label, "area", districts, mine, decisions, lambda c: c.district or "unknown")
        rows += _breakdown(label, "source", sectors, mine, decisions, lambda c: c.sector)
        by_outcome = Counter(d.outcome for d in decided)
        rows += [(label, "outcome", outcome, "decided", by_outcome.get(outcome, 0)) for outcome in outcomes]
    return rows


def _breakdown(label: str, name: str, categories: list[str], contacts: list[ContactFact],
               decisions: dict[str, DecisionFact], category_of: Callable[[ContactFact], str],
               ) -> list[tuple[str, str, str, str, int]]:
    rows = []
    for category in categories:
        mine = [c for c in contacts if category_of(c) == category]
        decided = [decisions[c.referral_id] for c in mine if c.referral_id in decisions]
        rows += [
            (label, name, category, "contacts", len(mine)),
            (label, name, category, "to_social_care", sum(d.outcome in TO_SOCIAL_CARE for d in decided)),
            (label, name, category, "to_early_help", sum(d.outcome in TO_EARLY_HELP for d in decided)),
        ]
    return rows


def commissioners_csv(facts: Facts, period: Period, grouping: Grouping = Grouping.MONTH) -> str:
    """The export as CSV text, small numbers suppressed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for label, breakdown, category, measure, count in export_rows(facts, period, grouping):
        writer.writerow((label, breakdown, category, measure, suppressed(count)))
    return out.getvalue()
