"""Insight's composition root: the real parts by default, any of them handed in (a test's in-memory database,
broker and fixed clock), wired the same way either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from mash_runtime.audit_report import install_audit_report
from mash_runtime.clock import Clock, utc_now
from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime, TopicAdmin
from mash_runtime.timescales import TimescaleConfig, Timescales, default_timescales
from pymongo.asynchronous.database import AsyncDatabase

from mash_insight.config import load_rising_concern_rule
from mash_insight.fact_recording import FactRecorder
from mash_insight.governance import govern
from mash_insight.handlers import http, kafka, quality_http
from mash_insight.quality_assurance import QualityAssuranceFigures
from mash_insight.reports import Reports
from mash_insight.settings import InsightSettings
from mash_insight.store import InsightStore, QualityAuditFacts


@dataclass
class InsightService:
    """Insight's running parts: what `python -m mash_insight` serves and what a test drives."""

    runtime: ServiceRuntime
    app: FastAPI
    reports: Reports
    store: InsightStore
    governance: Governance
    quality: QualityAssuranceFigures


def bootstrap(settings: InsightSettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now,
              topic_admin: TopicAdmin | None = None) -> InsightService:
    """Wire insight: its own database of facts, the hub's timescales, the rising-concern rule, consumers, HTTP."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    timescales = Timescales(TimescaleConfig.load(settings.timescales_file) if settings.timescales_file
                            else default_timescales())
    store = InsightStore(runtime.db)
    reports = Reports(store, timescales, load_rising_concern_rule(settings.rising_concern_file), runtime.clock)
    kafka.subscribe_all(runtime, FactRecorder(store), settings.generation)
    governance = govern(runtime, store, generation=settings.generation)
    app = runtime.http_app(
        "MASH insight", "The hub's figures: performance against timescales, conversion, agencies, areas and "
        "rising concern, built from the event stream (no free text, no sealed item).",
    )
    http.install_routes(app, reports, runtime.audit, store)
    app.state.insight_store = store
    # Issue 23: practice leads' audits of the dip sample, counted apart from the other figures.
    quality = QualityAssuranceFigures(QualityAuditFacts(runtime.db))
    kafka.subscribe_quality_audits(runtime, quality, settings.generation)
    quality_http.install_quality_routes(app, reports, quality, runtime.audit)
    install_audit_report(app, runtime.audit)
    return InsightService(runtime, app, reports, store, governance, quality)
