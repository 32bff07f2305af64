"""Notify's composition root: the real parts by default, any of them handed in (a test's in-memory database,
broker, fixed clock and channels), wired the same way either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from mash_runtime.audit_report import install_audit_report
from mash_runtime.clock import Clock, utc_now
from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime, TopicAdmin
from mash_schemas.topics import NOTIFICATION_FAILED, NOTIFICATION_SENT
from pymongo.asynchronous.database import AsyncDatabase

from mash_notify.channels import Channels
from mash_notify.channels.email import EmailChannel
from mash_notify.channels.webhook import WebhookChannel
from mash_notify.deliveries import Deliveries
from mash_notify.domain.recipients import load_recipients
from mash_notify.governance import govern
from mash_notify.handlers import http, kafka
from mash_notify.settings import NotifySettings
from mash_notify.store import DELIVERIES, NotifyStore


@dataclass
class NotifyService:
    """Notify's running parts: what `python -m mash_notify` serves and what a test drives."""

    runtime: ServiceRuntime
    app: FastAPI
    deliveries: Deliveries
    store: NotifyStore
    channels: Channels
    governance: Governance


def bootstrap(settings: NotifySettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now, topic_admin: TopicAdmin | None = None,
              channels: Channels | None = None) -> NotifyService:
    """Wire notify: recipients, channels (SMTP and webhooks unless handed others), the decision subscriber,
    the delivery job and the delivery log's routes."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    store = NotifyStore(runtime.store(DELIVERIES))
    if channels is None:
        email, webhooks = EmailChannel(settings), WebhookChannel(settings.send_timeout_seconds, clock)
        runtime.on_shutdown(email.close)
        runtime.on_shutdown(webhooks.close)
        channels = Channels(email, webhooks)
    deliveries = Deliveries(settings, store, load_recipients(settings.recipients_file), runtime.audit, channels,
                            runtime.clock)
    runtime.on_startup(store.ensure_indexes)
    runtime.on_startup(deliveries.take_back_claims)
    runtime.topic(NOTIFICATION_SENT)
    runtime.topic(NOTIFICATION_FAILED)
    kafka.subscribe_all(runtime, deliveries)
    runtime.every(settings.delivery_sweep_seconds, deliveries.deliver_due)
    governance = govern(runtime, store)
    app = runtime.http_app("MASH notify", "The hand-off: receiving services, referrer feedback, agency outcomes.")
    http.install_routes(app, deliveries)
    install_audit_report(app, runtime.audit)
    return NotifyService(runtime, app, deliveries, store, channels, governance)
