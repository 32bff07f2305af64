"""The Kafka broker every service uses: durable producer, telemetry, optional SASL/SCRAM."""

from __future__ import annotations

import logging
import ssl

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.security import BaseSecurity, SASLScram512
from opentelemetry.trace import TracerProvider

from mash_runtime.settings import HubSettings


class KafkaCredentialsMissing(RuntimeError):
    """In production a service connects to Kafka only as its own principal."""


def broker_security(settings: HubSettings) -> BaseSecurity | None:
    """SCRAM-SHA-512 credentials when configured (per-principal ACLs), else a plain connection.

    A connection without authentication is for development and tests only: in production the service
    refuses to start without MASH_KAFKA_USERNAME and MASH_KAFKA_PASSWORD.
    """
    if settings.kafka_username is None or settings.kafka_password is None:
        if settings.environment == "production":
            raise KafkaCredentialsMissing(
                "kafka: set MASH_KAFKA_USERNAME and MASH_KAFKA_PASSWORD; production connects only with SASL/SCRAM"
            )
        return None
    ssl_context = ssl.create_default_context() if settings.environment == "production" else None
    return SASLScram512(
        username=settings.kafka_username,
        password=settings.kafka_password.get_secret_value(),
        ssl_context=ssl_context,
        use_ssl=ssl_context is not None,
    )


def build_broker(settings: HubSettings, tracer_provider: TracerProvider | None = None) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas and never duplicates on retry.

    Consumers are declared by `mash_runtime.consuming.subscribe`, which commits only after the
    handler has stored its effects.

    faststream's own per-message lines ("Received", "Processed") are logged at DEBUG: at INFO they cost
    about 50 µs of CPU each (two or three a message, as much as the bare transport spends on the whole
    message) and said nothing the handlers' own lines do not. MASH_LOG_LEVEL=DEBUG shows them.
    """
    # faststream takes a string as one address; a cluster's bootstrap lists several, comma-separated.
    servers = [server.strip() for server in settings.kafka_bootstrap.split(",") if server.strip()]
    return KafkaBroker(
        servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=True,
        security=broker_security(settings),
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        logger=logging.getLogger(f"{settings.service_name}.broker"),
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
        metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
    )
