"""The desk's clock: a breach raises one case.timescale event (not one per check) and shows in the queue.

The hub's red target is set to 0.0005 hours (1.8 seconds, continuous) and the clock is checked every
0.3 seconds, so a red referral breaches while the test watches and the watcher passes over it many times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mash_schemas import BragRating
from mash_schemas.topics import REFERRAL_RECEIVED, TIMESCALE_ALERT

from tests.integration.decision.desk_harness import (
    Desk,
    desk_settings,
    of_referral,
    referral,
    referral_received,
    running_desk,
    topic_events,
    write_timescales,
)
from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

RED_TARGET_HOURS = 0.0005
CLOCK_CHECK_SECONDS = 0.3


@pytest.fixture
async def desk(infrastructure: Infrastructure, namespace: str, tmp_path: Path) -> AsyncIterator[Desk]:
    timescales = write_timescales(tmp_path / "timescales.yaml", {
        "decision_targets": {"red": {"hours": RED_TARGET_HOURS, "clock": "continuous"}},
    })
    settings = desk_settings(infrastructure, namespace, timescales_file=timescales,
                             clock_check_seconds=CLOCK_CHECK_SECONDS)
    async with running_desk(settings) as running:
        yield running


async def _breach(desk: Desk, referral_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        alerts = of_referral(await topic_events(desk.bootstrap, desk.topic(TIMESCALE_ALERT)), referral_id)
        return next((a for a in alerts if a["payload"]["status"] == "breached"), None)

    return await eventually(probe, timeout=30, interval=0.2, what=f"a breach alert for {referral_id}")


async def test_a_breach_is_raised_once_and_shows_in_the_queue(desk: Desk) -> None:
    red = referral("scenario-2-antisocial-behaviour.json", rating=BragRating.RED)
    amber = referral("scenario-1-bike-theft.json", rating=BragRating.AMBER)
    await desk.publish(REFERRAL_RECEIVED, referral_received(amber))
    await desk.publish(REFERRAL_RECEIVED, referral_received(red))
    first_breach = await _breach(desk, red.referral_id)

    alert = first_breach["payload"]
    assert alert["rating"] == "red"
    assert alert["target"] == f"red target: {RED_TARGET_HOURS:g} hours (continuous)"
    assert datetime.fromisoformat(alert["due_at"]) == red.received_at + timedelta(hours=RED_TARGET_HOURS)
    assert alert["working_minutes_left"] < 0
    assert first_breach["event_type"] == "case.timescale"

    # A second red referral breaches >= 1.8 s later: the watcher has passed over the first one many times since.
    later_red = referral("scenario-4-sex-offender-warning.json", rating=BragRating.RED)
    await desk.publish(REFERRAL_RECEIVED, referral_received(later_red))
    second_breach = await _breach(desk, later_red.referral_id)
    watched_for = datetime.fromisoformat(second_breach["occurred_at"]) - datetime.fromisoformat(
        first_breach["occurred_at"])
    assert watched_for > timedelta(seconds=3 * CLOCK_CHECK_SECONDS)

    await desk.outbox_empty(red.referral_id)
    alerts = of_referral(await topic_events(desk.bootstrap, desk.topic(TIMESCALE_ALERT)), red.referral_id)
    statuses = [a["payload"]["status"] for a in alerts]
    assert statuses.count("breached") == 1
    assert statuses.count("near_breach") <= 1  # the 30-minute near-breach floor may be seen before the breach
    assert len({a["event_id"] for a in alerts}) == len(alerts)
    assert of_referral(await topic_events(desk.bootstrap, desk.topic(TIMESCALE_ALERT)), amber.referral_id) == []

    queue = await desk.queue()
    # breached first (the longer overdue, then the earlier received, leads), the amber on track after them
    assert [entry["referral_id"] for entry in queue] == [red.referral_id, later_red.referral_id, amber.referral_id]
    assert [entry["status"] for entry in queue] == ["breached", "breached", "on_track"]
    assert queue[0]["time_left"].startswith("overdue by ")
    assert queue[0]["time_left"].endswith("(continuous)")
