"""Creates the topics a service uses, with the hub's partition count, before it subscribes.

Relying on broker auto-creation would give agency topics whatever the broker default is; agencies
scale by partitions, so the hub sets them explicitly. Replication comes from the settings too
(MASH_KAFKA_REPLICATION_FACTOR, MASH_KAFKA_MIN_INSYNC_REPLICAS): on a cluster of three every partition has
three copies and a write (acks=all) is acknowledged only once two hold it, so one broker can be lost
without losing an acknowledged event or refusing a new one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from mash_runtime.broker import broker_security
from mash_runtime.retention import load_retention_schedule
from mash_runtime.settings import HubSettings

log = logging.getLogger(__name__)


async def ensure_topics(settings: HubSettings, topics: Iterable[str], partitions: dict[str, int] | None = None) -> None:
    """Create any of `topics` that do not exist yet (idempotent, safe to race with other services)."""
    wanted = sorted(set(topics))
    schedule = load_retention_schedule(settings.retention_file)
    prefix = settings.topic("")

    def configs(name: str) -> dict[str, str]:
        """retention.ms from the retention schedule (docs/governance.md), by the topic's base name, and the
        min.insync.replicas the settings ask for (else the broker's default applies)."""
        kept = schedule.topic_retention(name.removeprefix(prefix) if prefix else name)
        found = {"retention.ms": str(int(kept.total_seconds() * 1000))} if kept is not None else {}
        if settings.kafka_min_insync_replicas is not None:
            found["min.insync.replicas"] = str(settings.kafka_min_insync_replicas)
        return found

    security = broker_security(settings)
    kwargs: dict[str, object] = {}
    if security is not None:
        kwargs = {
            "security_protocol": "SASL_SSL" if settings.environment == "production" else "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": settings.kafka_username,
            "sasl_plain_password": settings.kafka_password.get_secret_value() if settings.kafka_password else None,
        }
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **kwargs)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=(partitions or {}).get(name, settings.topic_partitions),
                replication_factor=settings.kafka_replication_factor,
                topic_configs=configs(name),
            )
            for name in wanted
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service created it first
                await admin.create_topics(missing)
            log.info("topics created", extra={"fields": {"topics": [t.name for t in missing]}})
    finally:
        await admin.close()
