"""Rising concern (three low-level contacts in the window flag a family, two do not, the threshold is the hub's
configuration) and the commissioners' export (every count under 5 shown as "<5")."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from mash_insight.config import default_rising_concern_rule
from mash_insight.domain.export import commissioners_csv, suppressed
from mash_insight.domain.facts import ContactFact, DecisionFact
from mash_insight.domain.figures import Facts
from mash_insight.domain.periods import Grouping, Period
from mash_insight.domain.rising_concern import RisingConcernRule, rising_concern
from mash_runtime.timescales import default_timescales

pytestmark = pytest.mark.unit
ZONE = default_timescales().working_hours.timezone
AS_OF = datetime(2026, 6, 30, 17, 0).astimezone()


def contact(n: int, days_ago: int, refs: tuple[str, ...] = ("LA-1",), rating: str = "green",
            categories: tuple[str, ...] = ("neglect",), district: str | None = "EX4") -> ContactFact:
    return ContactFact(referral_id=f"R{n}", received_at=AS_OF - timedelta(days=days_ago), source="web_form",
                       sector="education", suggested_rating=rating, categories=list(categories),
                       subject_kinds=["child"], person_refs=list(refs), district=district)


def flagged(contacts: list[ContactFact], rule: RisingConcernRule | None = None,
            decisions: dict[str, DecisionFact] | None = None) -> dict[str, list[str]]:
    report = rising_concern(contacts, decisions or {}, rule or default_rising_concern_rule(), AS_OF)
    return {f.family: [c.referral_id for c in f.contacts] for f in report.families}


def test_three_low_level_contacts_in_the_window_flag_the_family_and_two_do_not() -> None:
    assert flagged([contact(1, 80), contact(2, 40), contact(3, 1)]) == {"LA-1": ["R1", "R2", "R3"]}
    assert flagged([contact(1, 40), contact(2, 1)]) == {}


def test_only_low_level_contacts_within_the_window_count() -> None:
    outside = contact(1, 91)
    escalated = contact(2, 30, rating="amber")
    assert flagged([outside, escalated, contact(3, 20), contact(4, 2)]) == {}
    report = rising_concern([escalated, contact(3, 20), contact(4, 2), contact(5, 1)], {},
                            default_rising_concern_rule(), AS_OF)
    assert [f.higher_level_contacts_in_window for f in report.families] == [1]


def test_the_managers_rating_at_decision_counts_rather_than_intakes_suggestion() -> None:
    decided_amber = DecisionFact(referral_id="R3", decision_id="D3", decided_at=AS_OF, received_at=AS_OF,
                                 rating="amber", outcome="statutory_assessment", receiving_service="assessment-team",
                                 route="screening", within_timescale=True, agencies_consulted=[])
    assert flagged([contact(1, 50), contact(2, 10), contact(3, 1)], decisions={"R3": decided_amber}) == {}


def test_siblings_on_one_contact_join_one_family() -> None:
    contacts = [contact(1, 60, ("LA-7",)), contact(2, 30, ("LA-7", "LA-8")), contact(3, 3, ("LA-8",))]
    report = rising_concern(contacts, {}, default_rising_concern_rule(), AS_OF)
    assert [(f.family, f.person_refs) for f in report.families] == [("LA-7", ["LA-7", "LA-8"])]


def test_the_threshold_window_and_weights_are_the_hubs_configuration() -> None:
    two = [contact(1, 40), contact(2, 1)]
    assert flagged(two, RisingConcernRule.from_yaml("threshold: 2")) == {"LA-1": ["R1", "R2"]}
    assert flagged(two, RisingConcernRule.from_yaml("window_days: 30")) == {}
    weighted = RisingConcernRule.from_yaml("category_weights: {domestic_abuse: 2}")
    assert flagged([contact(1, 40, categories=("domestic_abuse",)), contact(2, 1)], weighted) == {
        "LA-1": ["R1", "R2"]}
    blue_only = RisingConcernRule.from_yaml("low_level_ratings: [blue]")
    assert flagged([contact(1, 50), contact(2, 10), contact(3, 1)], blue_only) == {}


def test_small_numbers_are_shown_as_under_five() -> None:
    assert [suppressed(n) for n in (0, 1, 4, 5, 17)] == ["<5", "<5", "<5", "5", "17"]


def test_the_commissioners_export_shows_every_count_under_five_as_under_five() -> None:
    from zoneinfo import ZoneInfo

    busy = [contact(n, 5, refs=(), district="EX4") for n in range(7)]
    quiet = [contact(100 + n, 5, refs=(), district="PL1") for n in range(2)]
    period = Period(date(2026, 6, 1), date(2026, 6, 30), ZoneInfo(ZONE))
    rows = list(csv.DictReader(io.StringIO(commissioners_csv(Facts(contacts=busy + quiet), period,
                                                             Grouping.MONTH))))
    area = {row["category"]: row["value"] for row in rows if row["breakdown"] == "area" and row["measure"] == "contacts"}
    assert area == {"EX4": "7", "PL1": "<5"}
    assert {row["value"] for row in rows if row["measure"] == "to_social_care"} == {"<5"}
    assert next(row["value"] for row in rows if row["breakdown"] == "all" and row["measure"] == "contacts") == "9"
    for row in rows:
        assert row["value"] == "<5" or int(row["value"]) >= 5
