"""Two councils' hubs side by side on one broker and store, sharing the agencies that serve both.

Every process of Westshire and of Eastshire runs as its hub's own principal (<hub>-<service>, whose ACLs
reach only its namespace), with its own databases and keys; one kit per agency answers both. A case is
carried from contact to decision in each hub at the same time; each hub has only its own case, and a
token one hub issued opens nothing at the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from demo.hub import AgencyOptions
from demo.region import RegionConfig, RegionRun
from demo.scenarios import carry, load_scenarios
from tests.support.infrastructure import Infrastructure
from tests.support.region import region_of_test

SCENARIOS = {scenario.number: scenario for scenario in load_scenarios()}


@pytest.fixture
async def region_running(infrastructure: Infrastructure, namespace: str, tmp_path: Path) -> AsyncIterator[RegionRun]:
    _, path = region_of_test(namespace, tmp_path)
    agencies = {agency: AgencyOptions() for agency in ("police", "health", "education", "early-help")}
    run = RegionRun(RegionConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                                 region_file=path, workdir=tmp_path, agencies=agencies, routers=False))
    try:
        await run.start()
        yield run
    finally:
        run.stop()


async def test_each_hub_carries_its_own_case_to_a_decision_and_sees_nothing_of_the_other(
    region_running: RegionRun,
) -> None:
    west, east = region_running.client("westshire"), region_running.client("eastshire")
    try:
        carried_west, carried_east = await asyncio.gather(carry(west, SCENARIOS[4], enquiry_timeout=180),
                                                          carry(east, SCENARIOS[8], enquiry_timeout=180))
        assert carried_west.decision["rating"] and carried_east.decision["rating"]
        assert carried_west.not_answered == [] and carried_east.not_answered == []  # the shared kits answered both

        assert await west.case(carried_west.referral_id) is not None
        assert await east.case(carried_west.referral_id) is None  # Eastshire has no such case
        assert await west.case(carried_east.referral_id) is None
        async with httpx.AsyncClient(base_url=region_running.hub("eastshire").url("decision"), timeout=15) as desk:
            foreign = await desk.get(f"/cases/{carried_east.referral_id}", headers=west.manager)
            assert foreign.status_code == 401  # Westshire's token is not Eastshire's
            own = await desk.get(f"/cases/{carried_east.referral_id}", headers=east.manager)
            assert own.status_code == 200
    finally:
        await west.close()
        await east.close()
