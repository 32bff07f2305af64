"""Threshold consistency (issue 23 item 3) over a generated month: agreement between the suggested, screened and
decided ratings (by source, screener, manager and over time), ratings changed with or without a rationale,
step-up and step-down, outcomes by rating and by safety scale, and drift equal an independent computation from
the raw events (tests/support/insight_oracle.py), in any order and however often delivered; what is published
shows every count under 5 as "<5"; and the analysis's statements never reach insight's store."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

import pytest
from mash_insight.config import default_rising_concern_rule
from mash_insight.domain.periods import Grouping
from mash_insight.fact_recording import FactRecorder
from mash_insight.reports import Reports
from mash_runtime.clock import FixedClock
from mash_runtime.timescales import Timescales, default_timescales

from tests.support.insight_events import MARKER, Stream, generate_month
from tests.support.insight_oracle import expected_thresholds
from tests.unit.insight.memory_facts import MemoryFactStore, feed

pytestmark = pytest.mark.unit
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 31)
TIMESCALES = Timescales(default_timescales())
ZONE = TIMESCALES.working.zone
NAMES = {"breakdown", "category", "step", "from_rating", "to_rating", "label", "rating"}


def _shown(count: int) -> str:
    return "<5" if count < 5 else str(count)


@pytest.fixture(scope="module")
def month() -> Stream:
    return generate_month(FIRST)


def _raw(stream: Stream) -> dict[str, list[dict[str, Any]]]:
    return {topic: stream.on(topic) for topic in {t for t, _ in stream.events}}


async def _reports(stream: Stream, order: list[int] | None = None, times: int = 1,
                   now: datetime | None = None) -> tuple[Reports, MemoryFactStore]:
    store = MemoryFactStore()
    recorder = FactRecorder(store)
    events = [stream.events[i] for i in (order or range(len(stream.events)))]
    for _ in range(times):
        for topic, event in events:
            await feed(recorder, topic, event)
    clock = FixedClock(now or datetime(2026, 6, 1, 12, 0, tzinfo=ZONE))
    return Reports(store, TIMESCALES, default_rising_concern_rule(), clock=clock), store


@pytest.mark.parametrize("grouping", [Grouping.WEEK, Grouping.MONTH])
async def test_threshold_figures_over_a_month_equal_an_independent_computation(month: Stream,
                                                                                grouping: Grouping) -> None:
    reports, _ = await _reports(month)
    period = reports.period(FIRST, LAST)
    as_of = reports.drift_moment(period)
    got = (await reports.threshold_counts(period, grouping)).as_dict()
    assert got == expected_thresholds(_raw(month), FIRST, LAST, grouping.value, TIMESCALES, as_of)
    # The month exercises every figure, not just zeros.
    everyone = got["agreement"]["all"]["all"]
    assert everyone["decided"] > everyone["screened"] > everyone["all_agree"] > 100
    assert everyone["changed_at_screening"] > everyone["changed_at_screening_with_rationale"] > 0
    assert everyone["changed_at_decision"] > everyone["changed_at_decision_with_rationale"] > 0
    assert len(got["agreement"]["screener"]) == 7 and len(got["agreement"]["manager"]) == 3  # 6 and not recorded
    assert got["flows"]["total"]["step_up"] > 0 and got["flows"]["total"]["step_down"] > 0
    assert sum(sum(row.values()) for row in got["outcomes"]["safety_scale"].values()) == everyone["decided"]
    assert sum(row["open_past_target"] for row in got["drift"].values()) > 5
    assert sum(row["decided_late"] for row in got["drift"].values()) > 5


async def test_drift_while_the_period_is_running_is_measured_now(month: Stream) -> None:
    now = datetime(2026, 3, 20, 15, 30, tzinfo=ZONE)
    reports, _ = await _reports(month, now=now)
    period = reports.period(FIRST, LAST)
    assert reports.drift_moment(period) == now
    got = (await reports.threshold_counts(period, Grouping.WEEK)).as_dict()
    assert got["drift"] == expected_thresholds(_raw(month), FIRST, LAST, "week", TIMESCALES, now)["drift"]
    ended = (await (await _reports(month))[0].threshold_counts(period, Grouping.WEEK)).as_dict()
    assert got["drift"] != ended["drift"]


async def test_any_order_and_every_event_twice_give_the_same_threshold_figures(month: Stream) -> None:
    once, _ = await _reports(month)
    order = list(range(len(month.events)))
    random.Random(23).shuffle(order)
    twice, _ = await _reports(month, order, times=2)
    period = once.period(FIRST, LAST)
    assert await twice.thresholds(period, Grouping.WEEK) == await once.thresholds(period, Grouping.WEEK)


async def test_the_published_figures_show_every_count_under_5_as_less_than_5(month: Stream) -> None:
    reports, _ = await _reports(month)
    period = reports.period(FIRST, LAST)
    expected = expected_thresholds(_raw(month), FIRST, LAST, "week", TIMESCALES, reports.drift_moment(period))
    report = await reports.thresholds(period, Grouping.WEEK)
    for row in report.agreement:
        counts = expected["agreement"][row.breakdown][row.category]
        assert row.decided == _shown(counts["decided"])
        assert row.changed_at_decision_with_rationale == _shown(counts["changed_at_decision_with_rationale"])
        agree, screened = counts["suggested_screened_agree"], counts["screened"]
        if agree < 5 or screened - agree < 5:
            assert row.suggested_screened_agreement_percent is None
        else:
            assert row.suggested_screened_agreement_percent == round(100 * agree / screened, 1)
    assert any("<5" in row.model_dump().values() for row in report.agreement), "a screener or week has a small number"
    assert any(row.suggested_screened_agreement_percent is None for row in report.agreement)
    for change in report.changes:
        assert change.changed == _shown(expected["changes"][change.step][f"{change.from_rating}->{change.to_rating}"]
                                        ["changed"])
    assert len(report.changes) == 24  # every pair, so a missing row never says "none"
    assert [(f.label, f.step_up) for f in report.flows] == [
        (label, _shown(row["step_up"])) for label, row in expected["flows"].items()]
    for outcome in report.outcomes:
        assert outcome.outcomes == {k: _shown(v) for k, v in
                                    expected["outcomes"][outcome.breakdown][outcome.category].items()}
    for drift in report.drift:
        row = expected["drift"][drift.rating]
        assert drift.open_past_target == _shown(row["open_past_target"])
        assert drift.median_hours_past_target == (row["median_hours_past_target"]
                                                  if row["open_past_target"] >= 5 else None)
    counts = [value for row in [*report.agreement, *report.changes, *report.flows, *report.drift]
              for name, value in row.model_dump().items() if isinstance(value, str) and name not in NAMES]
    counts += [value for row in report.outcomes for value in [row.decided, *row.outcomes.values()]]
    assert counts and all(value == "<5" or int(value) >= 5 for value in counts)


async def test_the_analysis_statements_never_reach_insight_only_its_safety_scale(month: Stream) -> None:
    _, store = await _reports(month)
    decisions = [e for t, e in month.events if t.endswith("decision.made") and e.payload.risk_analysis is not None]
    assert decisions and all(MARKER in (e.payload.risk_analysis.harm or "") for e in decisions)
    assert MARKER not in "\n".join(store.documents)
    assert any('"safety_scale": ' in doc and '"safety_scale": null' not in doc for doc in store.documents)
