"""The enquiry service's composition root: the research desk wired to its store, broker, clock and agencies.

`bootstrap(settings)` builds the real parts (MongoDB, Kafka, the real time); a test hands in a
MemoryDatabase, a broker under TestKafkaBroker, a FixedClock and `no_topics` instead, and gets the very
same desk, subscriptions (one per agency's response topic) and routes (tests/support/service_harness.py).
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
from mash_runtime.transit import TransitSealer
from mash_schemas.topics import ENQUIRY_ADDENDUM, ENQUIRY_COMPLETED
from pymongo.asynchronous.database import AsyncDatabase

from mash_enquiry.config import load_agencies
from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.governance import ReleasePermissions, govern
from mash_enquiry.handlers import http, kafka
from mash_enquiry.handlers.governance_http import install_permission_routes
from mash_enquiry.research_desk import ResearchDesk
from mash_enquiry.settings import EnquirySettings
from mash_enquiry.store import EnquiryStore, PermissionStore


@dataclass
class EnquiryService:
    """The running parts of the enquiry service, for its process and for tests."""

    runtime: ServiceRuntime
    app: FastAPI
    desk: ResearchDesk
    store: EnquiryStore
    directory: AgencyDirectory
    governance: Governance


def bootstrap(settings: EnquirySettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now,
              topic_admin: TopicAdmin | None = None) -> EnquiryService:
    """The enquiry service: agency directory, sealed store, subscribers, the due-time sweep, HTTP."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    store = EnquiryStore(runtime.store("enquiries"), runtime.cipher)
    directory = load_agencies(settings.agencies_file)
    if settings.region_file is not None:  # issue 20: neighbouring hubs as virtual members
        directory = directory.with_neighbouring_hubs(load_region(settings.region_file), settings.topic_namespace)
    desk = ResearchDesk(settings, store, directory=directory,
                        transit=TransitSealer(settings.decision_public_key_list()), clock=runtime.clock)
    runtime.on_startup(store.ensure_indexes)
    runtime.topic(ENQUIRY_COMPLETED)
    runtime.topic(ENQUIRY_ADDENDUM)
    kafka.subscribe_all(runtime, desk, directory)
    runtime.every(settings.sweep_seconds, desk.sweep)
    permission_store = PermissionStore(runtime.store("release_permissions"))
    governance = govern(runtime, store, permission_store)
    app = runtime.http_app("MASH enquiry", "The research desk: MASH enquiries across partner agencies.")
    http.install_routes(app, desk, runtime.audit, directory)
    install_audit_report(app, runtime.audit)
    permissions = ReleasePermissions(settings, permission_store, runtime.audit, clock=runtime.clock)
    install_permission_routes(app, runtime, permissions, directory)
    return EnquiryService(runtime, app, desk, store, directory, governance)
