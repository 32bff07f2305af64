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
from mash_runtime.clock import Clock, utc_now
from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime, TopicAdmin
from mash_runtime.transit import TransitOpener
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, TIMESCALE_ALERT
from pymongo.asynchronous.database import AsyncDatabase

from mash_decision import config
from mash_decision.desk import ManagersDesk
from mash_decision.domain.timescales import Timescales
from mash_decision.handlers import holds, http, kafka
from mash_decision.settings import DecisionSettings
from mash_decision.store import DecisionStore, RetainedCaseFiles


@dataclass
class DecisionService:
    """The running parts of the decision service, for its process and for tests."""

    runtime: ServiceRuntime
    app: FastAPI
    desk: ManagersDesk
    store: DecisionStore
    governance: Governance


def bootstrap(settings: DecisionSettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now,
              topic_admin: TopicAdmin | None = None) -> DecisionService:
    """The decision service: sealed case files, timescales, rules, subscribers, the clock watcher, HTTP."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    store = DecisionStore(runtime.store("case_files"), runtime.cipher)
    desk = ManagersDesk(
        settings, store, Timescales(config.timescales(settings.timescales_file)),
        config.recommendation_rules(settings.recommendation_file), runtime.audit,
        settings.route_allocated_automatically, TransitOpener(settings.transit_private_key_list()),
        clock=runtime.clock,
    )
    runtime.on_startup(store.ensure_indexes)
    for produced in (ENQUIRY_OPENED, DECISION_MADE, TIMESCALE_ALERT):
        runtime.topic(produced)
    kafka.subscribe_all(runtime, desk)
    runtime.every(settings.clock_check_seconds, desk.watch_clock)
    governance = Governance(runtime, [RetainedCaseFiles(store)])
    app = runtime.http_app("MASH decision", "The MASH manager's desk: screening, enquiries, decisions, timescales.")
    http.install_routes(app, desk, runtime.audit)
    holds.install_hold_routes(app, governance, runtime.clock)
    return DecisionService(runtime, app, desk, store, governance)
