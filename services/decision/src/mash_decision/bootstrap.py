"""The decision service's composition root: the desk wired to its store, broker, clock and configuration.

`bootstrap(settings)` builds the real parts (MongoDB, Kafka, the real time); a test hands in a
MemoryDatabase, a broker under TestKafkaBroker, a FixedClock and `no_topics` instead, and gets the very
same desk, subscriptions and routes (tests/support/service_harness.py). Nothing else builds a desk.
"""

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
from mash_runtime.transit import TransitOpener
from mash_schemas.topics import (
    DECISION_MADE,
    ENQUIRY_OPENED,
    QUALITY_AUDIT_RECORDED,
    SUBJECT_ACCESS_PERMISSION_REQUESTED,
    SUBJECT_ACCESS_REQUESTED,
    TIMESCALE_ALERT,
    TRANSFER_SENT,
)
from pymongo.asynchronous.database import AsyncDatabase

from mash_decision import config
from mash_decision.desk import ManagersDesk
from mash_decision.domain.timescales import Timescales
from mash_decision.governance import govern
from mash_decision.handlers import governance_http, http, kafka, quality_http
from mash_decision.neighbour import NeighbourResponder
from mash_decision.quality_assurance import QualityAssurance
from mash_decision.settings import DecisionSettings
from mash_decision.store import (
    DecisionStore,
    NeighbourAnswerStore,
    QualityAuditStore,
    SubjectAccessStore,
)
from mash_decision.subject_access_desk import SubjectAccessDesk


@dataclass
class DecisionService:
    """The running parts of the decision service, for its process and for tests."""

    runtime: ServiceRuntime
    app: FastAPI
    desk: ManagersDesk
    store: DecisionStore
    governance: Governance
    subject_access: SubjectAccessDesk
    quality: QualityAssurance
    neighbour_responder: NeighbourResponder | None = None


def bootstrap(settings: DecisionSettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now,
              topic_admin: TopicAdmin | None = None) -> DecisionService:
    """The decision service: sealed case files, timescales, rules, subscribers, the clock watcher, HTTP."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    store = DecisionStore(runtime.store("case_files"), runtime.cipher)
    region = load_region(settings.region_file) if settings.region_file is not None else None
    timescales = Timescales(config.timescales(settings.timescales_file))
    desk = ManagersDesk(
        settings, store,
        timescales=timescales,
        rules=config.recommendation_rules(settings.recommendation_file),
        audit=runtime.audit,
        route_allocated_automatically=settings.route_allocated_automatically,
        transit=TransitOpener(settings.transit_private_key_list()),
        clock=runtime.clock,
        region=region,
        require_childs_voice=settings.require_childs_voice,
    )
    runtime.on_startup(store.ensure_indexes)
    # contact.transferred goes to the receiving hub's topic, which that hub's intake creates and reads.
    for produced in (ENQUIRY_OPENED, DECISION_MADE, TIMESCALE_ALERT, TRANSFER_SENT):
        runtime.topic(produced)
    kafka.subscribe_all(runtime, desk)
    runtime.every(settings.clock_check_seconds, desk.watch_clock)
    requests = SubjectAccessStore(runtime.store("subject_access_requests"), runtime.cipher)
    # Issue 23: the practice leads' audits of the weekly dip sample, erased with their case files and part of a
    # subject access request's answer.
    audits = QualityAuditStore(runtime.store("quality_audits"), runtime.cipher)
    subject_access = SubjectAccessDesk(settings, requests, case_files=store, audit=runtime.audit, clock=runtime.clock,
                                       quality_audits=audits)
    governance = govern(runtime, store, requests, subject_access, audits)
    app = runtime.http_app("MASH decision", "The MASH manager's desk: screening, enquiries, decisions, timescales.")
    http.install_routes(app, desk, runtime.audit)
    runtime.topic(SUBJECT_ACCESS_REQUESTED)
    runtime.topic(SUBJECT_ACCESS_PERMISSION_REQUESTED)
    kafka.subscribe_subject_access_parts(runtime, subject_access)
    governance_http.install_hold_routes(app, governance, runtime.clock)
    governance_http.install_subject_access_routes(app, subject_access)
    # Issue 23: the weekly dip sample of decided cases and the practice lead's audits.
    runtime.on_startup(audits.ensure_indexes)
    runtime.topic(QUALITY_AUDIT_RECORDED)
    quality = QualityAssurance(settings, store, audits, config.dip_sample_rules(settings.dip_sample_file),
                               audit=runtime.audit, clock=runtime.clock, zone=timescales.working.zone)
    quality_http.install_quality_routes(app, quality)
    install_audit_report(app, runtime.audit)
    responder = None
    if region is not None:
        # Issue 20: this hub answers its neighbours' enquiries as agency hub-<this hub>.
        responder = NeighbourResponder(
            region, region.hub_in(settings.topic_namespace), cases=store,
            answers=NeighbourAnswerStore(runtime.store("neighbour_answers"), runtime.cipher),
            audit=runtime.audit, clock=runtime.clock)
        kafka.subscribe_neighbour_requests(runtime, responder)
        http.install_neighbour_routes(app, responder)
    return DecisionService(runtime, app, desk, store, governance, subject_access, quality, responder)
