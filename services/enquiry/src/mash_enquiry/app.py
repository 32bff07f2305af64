"""Wires the enquiry service: agency directory, sealed store, subscribers, deadline sweeper, HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from mash_runtime.service import ServiceRuntime
from mash_runtime.transit import TransitSealer
from mash_schemas.topics import ENQUIRY_ADDENDUM, ENQUIRY_COMPLETED

from mash_enquiry.domain.agencies import load_agencies
from mash_enquiry.domain.sealing import Sealer
from mash_enquiry.handlers.events import subscribe_all
from mash_enquiry.handlers.http import install_routes
from mash_enquiry.research_desk import ResearchDesk
from mash_enquiry.settings import EnquirySettings


def create_app(settings: EnquirySettings | None = None) -> FastAPI:
    """The enquiry service as an ASGI app; its lifespan runs consumers, the sweeper and the relay."""
    settings = settings or EnquirySettings()
    runtime = ServiceRuntime(settings)
    store = runtime.store("enquiries")
    directory = load_agencies(settings.agencies_file)
    desk = ResearchDesk(settings, store, directory, Sealer(settings.sealing_key_list()),
                        TransitSealer(settings.decision_public_key_list()))

    async def indexes() -> None:
        await store.collection.create_index([("state", 1), ("wake_at", 1)])

    runtime.on_startup(indexes)
    runtime.topic(ENQUIRY_COMPLETED)
    runtime.topic(ENQUIRY_ADDENDUM)
    subscribe_all(runtime, desk, directory)
    runtime.every(settings.sweep_seconds, desk.sweep)
    app = runtime.http_app("MASH enquiry", "The research desk: MASH enquiries across partner agencies.")
    install_routes(app, desk, runtime.audit, directory)
    return app
