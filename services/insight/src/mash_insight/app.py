"""Wires insight: its own database of facts, the hub's timescales, the rising-concern rule, consumers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from mash_runtime.service import ServiceRuntime
from mash_runtime.timescales import TimescaleConfig, Timescales, default_timescales

from mash_insight.config import default_rising_concern_rule
from mash_insight.domain.rising_concern import RisingConcernRule
from mash_insight.handlers.events import FactRecorder, subscribe_all
from mash_insight.handlers.http import install_routes
from mash_insight.reports import Reports
from mash_insight.settings import InsightSettings
from mash_insight.store import InsightStore


def create_app(settings: InsightSettings | None = None) -> FastAPI:
    """Insight as an ASGI app; its lifespan runs the consumers that keep the facts."""
    settings = settings or InsightSettings()
    runtime = ServiceRuntime(settings)
    timescales = Timescales(TimescaleConfig.from_yaml(settings.timescales_file.read_text(encoding="utf-8"))
                            if settings.timescales_file else default_timescales())
    rule = (RisingConcernRule.from_yaml(settings.rising_concern_file.read_text(encoding="utf-8"))
            if settings.rising_concern_file else default_rising_concern_rule())
    store = InsightStore(runtime.db)
    subscribe_all(runtime, FactRecorder(store), settings.generation)
    app = runtime.http_app(
        "MASH insight", "The hub's figures: performance against timescales, conversion, agencies, areas and "
        "rising concern, built from the event stream (no free text, no sealed item).",
    )
    install_routes(app, Reports(store, timescales, rule), runtime.audit, store)
    app.state.insight_store = store
    return app
