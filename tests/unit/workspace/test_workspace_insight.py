"""The figures pages: analysts and managers see insight's reports as tables (and a chart), others cannot;
the export is passed through with its small numbers already suppressed by insight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from mash_insight.config import default_rising_concern_rule
from mash_insight.fact_recording import FactRecorder
from mash_insight.reports import Reports
from mash_runtime.timescales import Timescales, default_timescales
from mash_workspace.app import create_app
from mash_workspace.clients import ServiceClients
from mash_workspace.session import COOKIE_NAME

from tests.support.insight_events import generate_month
from tests.unit.insight.memory_facts import MemoryFactStore, feed
from tests.unit.workspace.workspace_builders import (
    BASE_URL,
    CLOCK,
    SESSIONS,
    FakeHub,
    person,
    settings,
    signed_in_cookie,
)

pytestmark = pytest.mark.unit
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 22)


async def _answers() -> dict[str, Any]:
    store = MemoryFactStore()
    recorder = FactRecorder(store)
    for topic, event in generate_month(FIRST, days=21, seed=3).events:
        await feed(recorder, topic, event)
    reports = Reports(store, Timescales(default_timescales()), default_rising_concern_rule())
    period = reports.period(FIRST, LAST)
    from mash_insight.domain.periods import Grouping

    as_of = datetime(2026, 3, 22, 23, 0, tzinfo=reports.timescales.working.zone)
    return {
        "performance": (await reports.performance(period, Grouping.DAY)).model_dump(mode="json"),
        "consultations": (await reports.consultations(period)).model_dump(mode="json"),
        "agencies": (await reports.agencies(period)).model_dump(mode="json"),
        "areas": (await reports.areas(period, Grouping.WEEK)).model_dump(mode="json"),
        "rising-concern": (await reports.rising_concern(as_of)).model_dump(mode="json"),
    }


@asynccontextmanager
async def figures_workspace(hub: FakeHub, role: str) -> AsyncIterator[httpx.AsyncClient]:
    config = settings().model_copy(update={"insight_url": "http://insight.test"})
    app = create_app(config, clients=ServiceClients.from_settings(config, transport=httpx.MockTransport(hub.handler)), database=SESSIONS,
                     clock=CLOCK)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        client.cookies.set(COOKIE_NAME, await signed_in_cookie(person(role)), domain="127.0.0.1")
        yield client


async def test_analysts_see_every_figures_page_as_tables_read_with_their_own_token() -> None:
    answers = await _answers()
    hub = FakeHub()
    for name, body in answers.items():
        hub.on("insight", "GET", f"/figures/{name}", body)
    async with figures_workspace(hub, "analyst") as client:
        pages = {path: await client.get(path, params=params) for path, params in (
            ("/insight", {"from": "2026-03-02", "to": "2026-03-22", "by": "day"}), ("/insight/agencies", {}),
            ("/insight/areas", {}), ("/insight/rising-concern", {"as_of": "2026-03-22"}))}
    for path, response in pages.items():
        assert response.status_code == 200, (path, response.text[:500])
        assert "govuk-table" in response.text
    performance = pages["/insight"].text
    assert f">{answers['performance']['total']['contacts']} (2026-03-02 to 2026-03-22)<" in performance
    assert "<svg" in performance and 'href="/insight"' in performance
    assert 'href="/insight/thresholds"' in performance
    assert 'data-testid="by-rating"' in performance
    rising = pages["/insight/rising-concern"].text
    assert "not a decision" in rising
    assert answers["rising-concern"]["families"], "three weeks of generated contacts flag some families"
    for family in answers["rising-concern"]["families"]:
        assert family["contacts"][0]["referral_id"] in rising
    assert {c.bearer for c in hub.calls} == {"token-of-analyst"}
    assert hub.called("insight", "GET", "/figures/performance")[0].params == {
        "from": "2026-03-02", "to": "2026-03-22", "by": "day"}


async def test_a_screener_cannot_see_the_figures_and_has_no_figures_link() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", [])
    async with figures_workspace(hub, "screener") as client:
        figures = await client.get("/insight")
        queue = await client.get("/queue")
    assert figures.status_code == 403
    assert 'href="/insight"' not in queue.text
    assert not hub.called("insight", "GET", "/figures/performance")


async def test_the_commissioners_export_is_passed_through_as_a_download() -> None:
    csv_text = "period,breakdown,category,measure,value\n2026-03,area,EX4,contacts,<5\n"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/export/commissioners.csv"
        return httpx.Response(200, text=csv_text, headers={
            "content-type": "text/csv", "content-disposition": 'attachment; filename="mash-figures.csv"'})

    config = settings().model_copy(update={"insight_url": "http://insight.test"})
    app = create_app(config, clients=ServiceClients.from_settings(config, transport=httpx.MockTransport(handler)), database=SESSIONS,
                     clock=CLOCK)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        client.cookies.set(COOKIE_NAME, await signed_in_cookie(person("manager")), domain="127.0.0.1")
        response = await client.get("/insight/export.csv", params={"from": "2026-03-01"})
    assert response.status_code == 200
    assert response.text == csv_text
    assert "mash-figures.csv" in response.headers["content-disposition"]


async def test_the_thresholds_page_shows_insight_s_threshold_figures_as_captioned_tables() -> None:
    store = MemoryFactStore()
    recorder = FactRecorder(store)
    for topic, event in generate_month(FIRST, days=21, seed=3).events:
        await feed(recorder, topic, event)
    from mash_insight.domain.periods import Grouping
    from mash_runtime.clock import FixedClock

    reports = Reports(store, Timescales(default_timescales()), default_rising_concern_rule(),
                      clock=FixedClock(datetime(2026, 4, 1, 9, 0, tzinfo=CLOCK().tzinfo)))
    report = (await reports.thresholds(reports.period(FIRST, LAST), Grouping.WEEK)).model_dump(mode="json")
    hub = FakeHub().on("insight", "GET", "/figures/thresholds", report)
    async with figures_workspace(hub, "manager") as client:
        response = await client.get("/insight/thresholds", params={"from": "2026-03-02", "to": "2026-03-22"})
    assert response.status_code == 200, response.text[:500]
    page = response.text
    for testid in ("agreement-all", "agreement-source", "agreement-screener", "agreement-manager", "agreement-period",
                   "changes", "flows", "outcomes-rating", "outcomes-safety_scale", "drift"):
        assert f'data-testid="{testid}"' in page
    assert page.count("<table") == page.count('<caption class="govuk-table__caption')
    everyone = next(row for row in report["agreement"] if row["breakdown"] == "all")
    assert f'>{everyone["decided"]}<' in page
    assert f'{everyone["all_agree"]} ({everyone["all_agree_percent"]}%)' in page
    assert "&lt;5" in page and "Step-up" in page and "Drift" in page
    assert "<strong>Thresholds</strong>" in page and 'href="/insight/agencies"' in page
    assert hub.called("insight", "GET", "/figures/thresholds")[0].params == {
        "from": "2026-03-02", "to": "2026-03-22", "by": "week"}
