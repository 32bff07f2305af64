"""Wires the decision service: sealed case files, timescales, rules, subscribers, clock, HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from mash_runtime.service import ServiceRuntime
from mash_runtime.transit import TransitOpener
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, TIMESCALE_ALERT

from mash_decision.config import default_recommendation_rules, default_timescales
from mash_decision.desk import ManagersDesk
from mash_decision.domain.recommendation import RecommendationRules
from mash_decision.domain.timescales import TimescaleConfig, Timescales
from mash_decision.handlers.events import subscribe_all
from mash_decision.handlers.http import install_routes
from mash_decision.settings import DecisionSettings
from mash_decision.store import CaseFiles


def create_app(settings: DecisionSettings | None = None) -> FastAPI:
    """The decision service as an ASGI app; its lifespan runs consumers, the clock and the relay."""
    settings = settings or DecisionSettings()
    runtime = ServiceRuntime(settings)
    cases = CaseFiles(runtime.store("case_files"), runtime.cipher)
    timescale_config = (TimescaleConfig.from_yaml(settings.timescales_file.read_text(encoding="utf-8"))
                        if settings.timescales_file else default_timescales())
    rules = (RecommendationRules.from_yaml(settings.recommendation_file.read_text(encoding="utf-8"))
             if settings.recommendation_file else default_recommendation_rules())
    desk = ManagersDesk(settings, cases, Timescales(timescale_config), rules, runtime.audit,
                        settings.route_allocated_automatically, TransitOpener(settings.transit_private_key_list()))
    runtime.on_startup(cases.ensure_indexes)
    for produced in (ENQUIRY_OPENED, DECISION_MADE, TIMESCALE_ALERT):
        runtime.topic(produced)
    subscribe_all(runtime, desk)
    runtime.every(settings.clock_check_seconds, desk.watch_clock)
    app = runtime.http_app("MASH decision", "The MASH manager's desk: screening, enquiries, decisions, timescales.")
    install_routes(app, desk, runtime.audit)
    return app
