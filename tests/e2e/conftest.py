"""End-to-end tests: the four services and the simulated agencies as real processes on the real stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo.client import HubClient
from demo.hub import Hub, HubConfig
from demo.postbox import Postbox
from demo.scenarios import agencies_for, load_scenarios
from tests.support.fast_hub import fast_service_env
from tests.support.infrastructure import Infrastructure

ENQUIRY_WINDOW_SECONDS = 20.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/e2e as `e2e`."""
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
async def postbox() -> AsyncIterator[Postbox]:
    """A real SMTP server and webhook receiver for notify's deliveries."""
    async with Postbox().running() as box:
        yield box


@pytest.fixture(scope="module")
async def hub(
    infrastructure: Infrastructure, postbox: Postbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    """The whole hub in a namespace of its own, with every scenario's simulated agencies."""
    workdir: Path = tmp_path_factory.mktemp("hub")
    config = HubConfig(
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        mongo_url=infrastructure.mongo_url,
        namespace=f"e2e{uuid.uuid4().hex[:8]}",
        workdir=workdir,
        agencies=agencies_for(load_scenarios()),
        service_env=fast_service_env(workdir, postbox, enquiry_window_seconds=ENQUIRY_WINDOW_SECONDS),
    )
    running = Hub(config)
    try:
        await running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
async def client(hub: Hub) -> AsyncIterator[HubClient]:
    """Hub staff and referrers, over HTTP."""
    staff = HubClient(hub)
    yield staff
    await staff.close()
