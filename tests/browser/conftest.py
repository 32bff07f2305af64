"""Browser tests: real Chromium against the whole hub, the workspace and the local OIDC provider.

One hub for the package (the services, the workspace, the identity provider and the simulated education
and health agencies as processes on the real broker and store), and one browser for the run.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page

from demo.hub import AgencyOptions, Hub, HubConfig
from demo.postbox import Postbox
from tests.support.browser import browser, check_accessibility, page
from tests.support.fast_hub import fast_service_env
from tests.support.infrastructure import Infrastructure

__all__ = ["browser", "page"]

# Long enough for people to answer through the pages; completion comes when every agency has answered.
ENQUIRY_WINDOW_SECONDS = 600.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/browser as `browser` and `e2e`."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def postbox() -> AsyncIterator[Postbox]:
    """A real SMTP server and webhook receiver for notify's deliveries."""
    async with Postbox().running() as box:
        yield box


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def hub(
    infrastructure: Infrastructure, postbox: Postbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    """The whole hub with its pages: police answer on the portal, education and health with the kit; decision
    requires the child's voice, as every deployment does."""
    workdir: Path = tmp_path_factory.mktemp("people")
    service_env = fast_service_env(workdir, postbox, enquiry_window_seconds=ENQUIRY_WINDOW_SECONDS)
    # As every deployment (and decision's default): no decision without the child's voice (issue 23; docs/deploy.md).
    service_env["decision"]["MASH_DECISION_REQUIRE_CHILDS_VOICE"] = "true"
    # Every process here reads one machine's clock, so decision needs none of the 30 s it allows for skew between
    # machines: with 2 s, a token of the sessions tests' 5 s is refused 7 s after it was issued, not 35.
    service_env["decision"]["MASH_OIDC_LEEWAY_SECONDS"] = "2"
    # The pages wait up to 30 s for a service (10 by default): at the start of `make test`'s second step the two cores
    # carry this hub, the region's, the fault suite's and the cluster at once, and a page once met decision's 10 s.
    service_env.setdefault("workspace", {})["MASH_WORKSPACE_API_TIMEOUT_SECONDS"] = "30"
    # Unlike any deployment: a workspace clock the tests can move (mash_workspace.moved_clock; 0 until one does).
    service_env.setdefault("workspace", {})["MASH_WORKSPACE_TEST_CLOCK_OFFSET_FILE"] = str(clock_offset_file(workdir))
    config = HubConfig(
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        mongo_url=infrastructure.mongo_url,
        namespace=f"web{uuid.uuid4().hex[:8]}",
        workdir=workdir,
        agencies={"education": AgencyOptions(), "health": AgencyOptions()},
        people=True,
        service_env=service_env,
    )
    running = Hub(config)
    try:
        await running.start()
        yield running
    finally:
        running.stop()


def clock_offset_file(workdir: Path) -> Path:
    """The file of seconds the browser hub's workspace adds to its clock (MASH_WORKSPACE_TEST_CLOCK_OFFSET_FILE)."""
    return workdir / "workspace-clock-offset"


async def sign_in(page: Page, hub: Hub, user: str) -> None:
    """Sign in through the real identity provider, as a person would: its page, the user's button."""
    await page.goto(f"{hub.workspace_url}/sign-in")
    await page.click(f"button[name='sub'][value='{user}']")
    await page.wait_for_url(f"{hub.workspace_url}/**")


async def visit(page: Page, url: str) -> None:
    """Open a page and check it with axe-core: every page the tests see is checked."""
    await page.goto(url)
    await check_accessibility(page)
