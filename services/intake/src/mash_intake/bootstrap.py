"""Intake's composition root: the real parts by default, any of them handed in (a test's in-memory database,
broker and fixed clock), wired the same way either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from mash_runtime.audit_report import install_audit_report
from mash_runtime.clock import Clock, utc_now
from mash_runtime.governance import Governance
from mash_runtime.region import load_region
from mash_runtime.service import ServiceRuntime, TopicAdmin
from mash_schemas.topics import CONSULTATION_RECORDED, REFERRAL_AMENDED, REFERRAL_RECEIVED
from pymongo.asynchronous.database import AsyncDatabase

from mash_intake.domain.lawful_basis import load_lawful_basis
from mash_intake.domain.level_of_needs import load_level_of_needs
from mash_intake.domain.triage import load_triage_rules
from mash_intake.front_door import FrontDoor
from mash_intake.governance import govern
from mash_intake.handlers import http, kafka
from mash_intake.settings import IntakeSettings
from mash_intake.store import IntakeStore


@dataclass
class IntakeService:
    """Intake's running parts: what `python -m mash_intake` serves and what a test drives."""

    runtime: ServiceRuntime
    app: FastAPI
    front_door: FrontDoor
    store: IntakeStore
    governance: Governance


def bootstrap(settings: IntakeSettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now,
              topic_admin: TopicAdmin | None = None) -> IntakeService:
    """Wire intake: store, rule tables, register, the police feed and status subscribers, HTTP routes."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    store = IntakeStore(runtime)
    region = load_region(settings.region_file) if settings.region_file is not None else None
    front_door = FrontDoor(
        settings, store, load_level_of_needs(settings.level_of_needs_file), load_triage_rules(settings.triage_file),
        runtime.clock, load_lawful_basis(settings.lawful_basis_file), audit=runtime.audit,
        hub_id=region.hub_in(settings.topic_namespace).id if region is not None else None,
    )

    async def prepare() -> None:
        await store.ensure_indexes()
        if settings.register_file is not None:
            await front_door.import_register_file(settings.register_file)
        await front_door.reload_register()

    runtime.on_startup(prepare)
    runtime.every(settings.register_reload_seconds, front_door.reload_register)
    runtime.topic(REFERRAL_RECEIVED)
    runtime.topic(REFERRAL_AMENDED)
    runtime.topic(CONSULTATION_RECORDED)
    kafka.subscribe_all(runtime, front_door)
    governance = govern(runtime, store)
    app = runtime.http_app(
        "MASH intake", "The hub's front door: contacts from professionals and the public, and police notifications."
    )
    http.install_routes(app, front_door, runtime.audit, settings.jwt_secret.get_secret_value(),
                        settings.max_request_bytes, settings.contacts_per_minute, settings.contacts_burst)
    app.state.front_door = front_door
    install_audit_report(app, runtime.audit)
    return IntakeService(runtime, app, front_door, store, governance)
