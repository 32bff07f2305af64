"""Notify on the real broker and store, delivering to a real SMTP server and webhook receiver."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from mash_notify.app import create_app
from mash_notify.settings import NotifySettings
from pymongo import AsyncMongoClient

from demo.postbox import Postbox
from tests.support.infrastructure import Infrastructure

RunNotify = Callable[[dict[str, str]], contextlib.AbstractAsyncContextManager[tuple[NotifySettings, httpx.AsyncClient]]]


@pytest.fixture
async def postbox() -> AsyncIterator[Postbox]:
    """A real SMTP server (aiosmtpd) and a webhook receiver that checks signatures, on loopback."""
    async with Postbox().running() as box:
        yield box


@pytest.fixture
async def notify_database(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[str]:
    """This test's notify database, dropped afterwards."""
    name = f"{namespace}_notify"
    yield name
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
def notify_env(hub_env: dict[str, str], notify_database: str, postbox: Postbox, tmp_path: Path) -> dict[str, str]:
    """Environment for notify: the real servers, this test's namespace and database, the postbox's addresses
    (packaged recipients with webhooks pointed at the postbox, and the webhook secrets)."""
    recipients = postbox.write_recipients(tmp_path / "recipients.yaml")
    return {
        **hub_env,
        **postbox.notify_env(recipients),
        "MASH_NOTIFY_MONGO_DATABASE": notify_database,
        "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.1",
        "MASH_NOTIFY_LOG_FILE": str(tmp_path / "notify.log"),
    }


@pytest.fixture
def run_notify(monkeypatch: pytest.MonkeyPatch) -> RunNotify:
    """Run notify in this process (its consumer, delivery worker and relay) with the given environment,
    read the way the deployed service reads it; yields its settings and an HTTP client on its routes."""

    @contextlib.asynccontextmanager
    async def running(env: dict[str, str]) -> AsyncIterator[tuple[NotifySettings, httpx.AsyncClient]]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)  # the webhook channel reads its secrets from the environment
        settings = NotifySettings()
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify", timeout=15.0) as client:
                yield settings, client

    return running
