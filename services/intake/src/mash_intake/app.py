"""Wires intake: store, rule tables, register, subscribers, HTTP routes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from mash_runtime.service import ServiceRuntime
from mash_schemas.topics import CONSULTATION_RECORDED, REFERRAL_AMENDED, REFERRAL_RECEIVED

from mash_intake.domain.level_of_needs import load_level_of_needs
from mash_intake.domain.register import parse_register_csv, parse_register_json
from mash_intake.domain.triage import load_triage_rules
from mash_intake.front_door import FrontDoor
from mash_intake.handlers.events import subscribe_all
from mash_intake.handlers.http import install_routes
from mash_intake.settings import IntakeSettings
from mash_intake.store import IntakeStore


async def import_register_file(store: IntakeStore, path: Path) -> int:
    """Import the local authority's known-people export (CSV or JSON); refuses a file with bad rows."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    result = parse_register_json(text) if path.suffix.lower() == ".json" else parse_register_csv(text)
    result.raise_for_problems()
    return await store.import_register(list(result.people), datetime.now(UTC))


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """The intake service as an ASGI app; its lifespan runs the consumers and the outbox relay."""
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings)
    store = IntakeStore(runtime)
    front_door = FrontDoor(
        settings, store, load_level_of_needs(settings.level_of_needs_file), load_triage_rules(settings.triage_file)
    )

    async def prepare() -> None:
        await store.ensure_indexes()
        if settings.register_file is not None:
            await import_register_file(store, settings.register_file)
        await front_door.reload_register()

    runtime.on_startup(prepare)
    runtime.every(settings.register_reload_seconds, front_door.reload_register)
    runtime.topic(REFERRAL_RECEIVED)
    runtime.topic(REFERRAL_AMENDED)
    runtime.topic(CONSULTATION_RECORDED)
    subscribe_all(runtime, front_door)
    app = runtime.http_app(
        "MASH intake", "The hub's front door: contacts from professionals and the public, and police notifications."
    )
    install_routes(app, front_door, settings.jwt_secret.get_secret_value(), settings.max_request_bytes,
                   settings.contacts_per_minute, settings.contacts_burst)
    app.state.front_door = front_door
    return app
