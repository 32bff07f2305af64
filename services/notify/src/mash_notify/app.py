"""Wires notify: recipients, channels, the decision subscriber, the delivery worker and HTTP routes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from mash_runtime.service import ServiceRuntime
from mash_schemas.topics import NOTIFICATION_FAILED, NOTIFICATION_SENT

from mash_notify.channels.email import EmailChannel
from mash_notify.channels.webhook import WebhookChannel
from mash_notify.claims import Claims
from mash_notify.deliveries import Deliveries
from mash_notify.domain.recipients import load_recipients
from mash_notify.handlers.events import subscribe_all
from mash_notify.handlers.http import install_routes
from mash_notify.settings import NotifySettings


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    """Notify as an ASGI app; its lifespan runs the consumer, the delivery worker and the relay."""
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(settings)
    store = runtime.store("deliveries")
    claims = Claims(store.collection, settings.replica_id, timedelta(seconds=settings.claim_lease_seconds))
    deliveries = Deliveries(
        settings, store, load_recipients(settings.recipients_file), runtime.audit,
        EmailChannel(settings), WebhookChannel(settings.send_timeout_seconds), claims,
    )

    async def indexes() -> None:
        await store.collection.create_index([("status", 1), ("next_attempt_at", 1)])
        await store.collection.create_index([("status", 1), ("claim_expires_at", 1)])
        await store.collection.create_index("referral_id")

    runtime.on_startup(indexes)
    runtime.on_startup(deliveries.take_back_claims)
    runtime.topic(NOTIFICATION_SENT)
    runtime.topic(NOTIFICATION_FAILED)
    subscribe_all(runtime, deliveries)
    runtime.every(settings.delivery_sweep_seconds, deliveries.deliver_due)
    app = runtime.http_app("MASH notify", "The hand-off: receiving services, referrer feedback, agency outcomes.")
    install_routes(app, deliveries)
    return app
