"""A generated month of the hub's events through insight's readers and rules: the figures equal an
independent computation from the raw events, whatever the order and however often events are delivered;
and nothing a person wrote, and no sealed item, reaches what insight keeps."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from mash_insight.config import default_rising_concern_rule
from mash_insight.domain.periods import Grouping
from mash_insight.fact_recording import FactRecorder
from mash_insight.reports import Reports
from mash_runtime.timescales import Timescales, default_timescales

from tests.support.insight_events import MARKER, SEALED_MARKER, Stream, generate_month
from tests.support.insight_oracle import expected_figures, flagged_families, served_figures
from tests.unit.insight.memory_facts import MemoryFactStore, feed

pytestmark = pytest.mark.unit
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 31)
TIMESCALES = Timescales(default_timescales())


async def _reports(stream: Stream, order: list[int] | None = None, times: int = 1) -> tuple[Reports, MemoryFactStore]:
    store = MemoryFactStore()
    recorder = FactRecorder(store)
    events = [stream.events[i] for i in (order or range(len(stream.events)))]
    for _ in range(times):
        for topic, event in events:
            await feed(recorder, topic, event)
    return Reports(store, TIMESCALES, default_rising_concern_rule()), store


async def _all(reports: Reports) -> dict[str, Any]:
    period = reports.period(FIRST, LAST)
    return served_figures((await reports.performance(period, Grouping.DAY)).model_dump(mode="json"),
                          (await reports.agencies(period)).model_dump(mode="json"),
                          (await reports.areas(period, Grouping.WEEK)).model_dump(mode="json"),
                          (await reports.consultations(period)).model_dump(mode="json"))


@pytest.fixture(scope="module")
def month() -> Stream:
    return generate_month(FIRST)


def _raw(stream: Stream) -> dict[str, list[dict[str, Any]]]:
    return {topic: stream.on(topic) for topic in {t for t, _ in stream.events}}


async def test_a_month_of_events_gives_the_figures_computed_independently_from_the_raw_events(month: Stream) -> None:
    reports, _ = await _reports(month)
    expected = expected_figures(_raw(month), FIRST, LAST, TIMESCALES)
    got = await _all(reports)
    assert got == expected
    assert got["total"]["contacts"] > 400 and got["total"]["re_referrals"] > 50
    assert any(row["silent"] for row in got["agencies"].values() if "silent" in row)


async def test_any_order_and_every_event_delivered_twice_give_the_same_figures(month: Stream) -> None:
    once, _ = await _reports(month)
    order = list(range(len(month.events)))
    random.Random(5).shuffle(order)
    shuffled_twice, store = await _reports(month, order, times=2)
    assert await _all(shuffled_twice) == await _all(once)
    as_of = datetime(2026, 3, 31, 23, 59, tzinfo=TIMESCALES.working.zone)
    assert (await shuffled_twice.rising_concern(as_of)) == (await once.rising_concern(as_of))
    assert len(store.kept) == len({(t, e.event_id) for t, e in month.events})


async def test_rising_concern_over_the_month_matches_an_independent_count(month: Stream) -> None:
    reports, _ = await _reports(month)
    as_of = datetime(2026, 3, 31, 23, 59, tzinfo=TIMESCALES.working.zone)
    report = await reports.rising_concern(as_of)
    got = {family.family: sorted(c.referral_id for c in family.contacts) for family in report.families}
    assert got == flagged_families(_raw(month), as_of)
    assert got, "a month of the generator's contacts flags some families"
    earlier = await reports.rising_concern(as_of - timedelta(days=20))
    assert len(earlier.families) < len(report.families)


async def test_insight_keeps_no_free_text_and_no_sealed_item(month: Stream) -> None:
    _, store = await _reports(month)
    kept = "\n".join(store.documents)
    assert MARKER not in kept
    assert SEALED_MARKER not in kept
    sent = "\n".join(event.model_dump_json() for _, event in month.events)
    assert MARKER in sent and SEALED_MARKER in sent  # the events did carry them
