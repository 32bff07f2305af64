"""The weekly dip sample (domain/dip_sample.py) is reproducible from the week, and unbiased within each outcome.

Every draw here is seeded by a fixed hub and fixed weeks, so the tests give the same result on every run: the
bounds below are set so that a fair draw would fail them with probability under one in a million, and a fixed
seed makes even that chance a property of the code, not of the run.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from mash_decision.config import default_recommendation_rules, dip_sample_rules
from mash_decision.domain.dip_sample import (
    DecidedCase,
    DipSampleRules,
    IsoWeek,
    StratumSize,
    dip_seed,
    draw_dip_sample,
)
from mash_runtime.config_files import ConfigError
from mash_schemas.decision import Outcome

pytestmark = pytest.mark.unit

HUB = "devon"
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def decided(week: IsoWeek, outcome: Outcome, count: int, prefix: str = "MASH") -> list[DecidedCase]:
    """`count` cases decided in `week` with `outcome`."""
    return [DecidedCase(f"{prefix}-{outcome.value}-{n:03d}", outcome, "morgan.manager",
                        week.starts() + timedelta(hours=n)) for n in range(count)]


def weeks(first: IsoWeek, count: int) -> list[IsoWeek]:
    """`count` consecutive ISO weeks from `first`."""
    return [IsoWeek.of(first.starts() + timedelta(weeks=n)) for n in range(count)]


def log_binomial_tail(successes: int, trials: int, p: float) -> float:
    """log P(X >= successes) for X ~ Binomial(trials, p), summed exactly in log space."""
    terms = [math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
             + k * math.log(p) + (trials - k) * math.log1p(-p) for k in range(successes, trials + 1)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def two_sided_p(count: int, trials: int, p: float) -> float:
    """The two-sided binomial p-value of `count` successes in `trials` (twice the smaller tail, at most 1)."""
    upper = math.exp(log_binomial_tail(count, trials, p))
    lower = math.exp(log_binomial_tail(trials - count, trials, 1 - p))  # P(X <= count)
    return min(1.0, 2 * min(upper, lower))


def test_drawing_the_same_week_again_gives_the_same_sample_whatever_order_the_cases_come_in() -> None:
    week = IsoWeek.of(MONDAY)
    cases = decided(week, Outcome.EARLY_HELP, 40) + decided(week, Outcome.CHILD_PROTECTION, 12)
    rules = DipSampleRules()
    first = draw_dip_sample(cases, rules, hub=HUB, week=week)
    shuffled = cases[:]
    random.Random(23).shuffle(shuffled)
    again = draw_dip_sample(shuffled, rules, hub=HUB, week=week)
    assert again == first
    assert first.cases  # something was drawn
    # Another week, or another hub, draws from the same cases with another seed.
    assert dip_seed(HUB, week) != dip_seed(HUB, IsoWeek.of(MONDAY + timedelta(weeks=1)))
    assert dip_seed(HUB, week) != dip_seed("cornwall", week)


def test_every_decided_case_in_a_stratum_is_equally_likely_to_be_drawn() -> None:
    # 20 early-help decisions a week, 25% drawn (5 a week), over 2,000 fixed weeks: each case is drawn
    # Binomial(2000, 1/4) times if the draw is fair. The same referral ids every week, so a draw favouring
    # some ids (the first in sort order, say) would show.
    rules = DipSampleRules(every_outcome=StratumSize(share=0.25, minimum=1, maximum=10))
    drawn: Counter[str] = Counter()
    all_weeks = weeks(IsoWeek(2010, 1), 2000)
    for week in all_weeks:
        cases = [DecidedCase(f"MASH-{n:03d}", Outcome.EARLY_HELP, "morgan.manager", week.starts()) for n in range(20)]
        sample = draw_dip_sample(cases, rules, hub=HUB, week=week)
        assert len(sample.cases) == 5
        drawn.update(case.referral_id for case in sample.cases)
    assert len(drawn) == 20
    # Bonferroni over the 20 cases: each must be a result a fair draw gives with probability over 1e-6 / 20.
    p_values = {referral: two_sided_p(drawn[referral], len(all_weeks), 0.25) for referral in sorted(drawn)}
    assert min(p_values.values()) > 1e-6 / 20, (drawn, p_values)
    # And, taken together, a chi-squared statistic no fair draw would exceed but rarely: its expectation is 19 * (1 -
    # 1/4), about 14; 80 is far into the tail (p < 1e-9 for 19 degrees of freedom).
    expected = len(all_weeks) * 5 / 20
    chi_squared = sum((count - expected) ** 2 / expected for count in drawn.values())
    assert chi_squared < 80, chi_squared


def test_the_draw_does_not_favour_any_position_in_the_order_the_cases_were_decided() -> None:
    # Over many weeks with new referral ids each week, count where in the week's decision order the drawn cases
    # stood: a fair draw puts each position in the sample equally often.
    rules = DipSampleRules(every_outcome=StratumSize(share=0.1, minimum=1, maximum=10))
    positions: Counter[int] = Counter()
    all_weeks = weeks(IsoWeek(2012, 1), 3000)
    for week in all_weeks:
        cases = decided(week, Outcome.STATUTORY_ASSESSMENT, 10, prefix=str(week))
        for case in draw_dip_sample(cases, rules, hub=HUB, week=week).cases:
            positions[cases.index(case)] += 1
    p_values = {position: two_sided_p(positions[position], len(all_weeks), 0.1) for position in range(10)}
    assert min(p_values.values()) > 1e-6 / 10, (positions, p_values)


def test_each_outcome_gets_its_configured_share_within_its_minimum_and_maximum() -> None:
    week = IsoWeek.of(MONDAY)
    rules = DipSampleRules(
        every_outcome=StratumSize(share=0.1, minimum=1, maximum=4),
        by_outcome={Outcome.CHILD_PROTECTION: StratumSize(share=0.5, minimum=2, maximum=10)})
    sizes = {Outcome.EARLY_HELP: 23, Outcome.NO_FURTHER_ACTION: 70, Outcome.CHILD_PROTECTION: 9,
             Outcome.STATUTORY_ASSESSMENT: 1, Outcome.UNIVERSAL_SERVICES: 5}
    cases = [case for outcome, count in sizes.items() for case in decided(week, outcome, count)]
    sample = draw_dip_sample(cases, rules, hub=HUB, week=week)
    drawn = Counter(case.outcome for case in sample.cases)
    # 10% of 23 is 2.3: three; 10% of 70 is seven, but at most four; half of 9 is 4.5: five; one of one; the
    # minimum of 1 for five universal-services decisions.
    assert drawn == {Outcome.EARLY_HELP: 3, Outcome.NO_FURTHER_ACTION: 4, Outcome.CHILD_PROTECTION: 5,
                     Outcome.STATUTORY_ASSESSMENT: 1, Outcome.UNIVERSAL_SERVICES: 1}
    assert sample.decided_by_outcome == sizes  # every stratum counted
    assert len({case.referral_id for case in sample.cases}) == len(sample.cases)
    assert {case.referral_id for case in sample.cases} <= {case.referral_id for case in cases}


def test_the_shipped_configuration_is_read_and_a_bad_one_names_its_field(tmp_path: Path) -> None:
    shipped = dip_sample_rules()
    assert shipped.size_for(Outcome.EARLY_HELP).of(30) == 3
    assert shipped.size_for(Outcome.CHILD_PROTECTION).of(30) == 6
    assert default_recommendation_rules() is not None  # the other files are still read beside it
    bad = tmp_path / "dip_sample.yaml"
    bad.write_text("every_outcome: {share: 0.1, minimum: 5, maximum: 2}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="every_outcome"):
        dip_sample_rules(bad)


def test_weeks_are_iso_weeks() -> None:
    week = IsoWeek.of(MONDAY)
    assert str(week) == "2026-W10"
    assert IsoWeek.parse("2026-W10") == week
    assert week.starts() <= MONDAY < week.ends()
    assert IsoWeek.of(datetime(2027, 1, 1, tzinfo=UTC)) == IsoWeek(2026, 53)  # a Friday of 2026's week 53
    for impossible in ("2025-W53", "0000-W01", "9999-W52", "2026-W"):  # 2025 has 52 weeks; the calendar's ends
        with pytest.raises(ValueError):
            IsoWeek.parse(impossible)


LONDON = ZoneInfo("Europe/London")


def test_a_week_runs_from_monday_midnight_on_the_hubs_calendar() -> None:
    """Monday 00:30 in British Summer Time is still Sunday in UTC: on the hub's calendar it is the new week."""
    just_after_midnight = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    assert str(IsoWeek.of(just_after_midnight, LONDON)) == "2026-W23"
    assert str(IsoWeek.of(just_after_midnight)) == "2026-W22"
    week = IsoWeek.of(just_after_midnight, LONDON)
    assert week.monday().isoformat() == "2026-06-01"
    assert (week.starts(), week.ends()) == (datetime(2026, 5, 31, 23, tzinfo=UTC), datetime(2026, 6, 7, 23, tzinfo=UTC))
    assert week == IsoWeek(2026, 23)  # the zone is not part of the week's name, so not of its seed either
    assert dip_seed(HUB, week) == dip_seed(HUB, IsoWeek(2026, 23))


def test_the_week_the_clocks_go_forward_ends_at_the_next_local_midnight() -> None:
    """British Summer Time began at 01:00 UTC on Sunday 29 March 2026: that week is an hour short in UTC."""
    week = IsoWeek.parse("2026-W13", LONDON)
    assert week.starts() == datetime(2026, 3, 23, tzinfo=UTC)
    assert week.ends() == datetime(2026, 3, 29, 23, tzinfo=UTC)
    assert IsoWeek.of(week.ends() - timedelta(seconds=1), LONDON) == week
    assert IsoWeek.of(week.ends(), LONDON) == IsoWeek(2026, 14)
