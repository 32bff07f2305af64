"""Creates the topics a service uses, with the hub's partition count, before it subscribes.

Relying on broker auto-creation would give agency topics whatever the broker default is; agencies
scale by partitions, so the hub sets them explicitly. Replication comes from the settings too
(MASH_KAFKA_REPLICATION_FACTOR, MASH_KAFKA_MIN_INSYNC_REPLICAS): on a cluster of three every partition has
three copies and a write (acks=all) is acknowledged only once two hold it, so one broker can be lost
without losing an acknowledged event or refusing a new one.

The service asks the broker about its own topics only (a metadata request naming them, with auto-creation
off), never for the list of every topic: on a broker many hubs and test namespaces share, that list runs to
thousands of topics, and reading it cost each service start a tenth of a CPU-second and more as it grew. A
topic the broker does not know is created; a creation the broker refuses (other than "it exists already", when
another service won the race) stops the start with the broker's reason, rather than leaving the service to
find a topic missing later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
    for_code,
)
from aiokafka.protocol.metadata import MetadataRequest

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
        unknown = await unknown_topics(admin, wanted)
        missing = [
            NewTopic(
                name=name,
                num_partitions=(partitions or {}).get(name, settings.topic_partitions),
                replication_factor=settings.kafka_replication_factor,
                topic_configs=configs(name),
            )
            for name in unknown
        ]
        if missing:
            response = await admin.create_topics(missing)
            created = _created(response.to_object()["topic_errors"])
            if created:  # none when another service won the race (or the broker had not yet said it knew them)
                log.info("topics created", extra={"fields": {"topics": created}})
    finally:
        await admin.close()


async def unknown_topics(admin: AIOKafkaAdminClient, wanted: list[str]) -> list[str]:
    """Which of `wanted` the broker does not know: one metadata request naming them, auto-creation off (the
    local stack's broker auto-creates, with its defaults, any topic a plain metadata request names). A topic
    this principal may not describe is left alone, as the full listing used to leave it out."""
    request = MetadataRequest(wanted, allow_auto_topic_creation=False)
    # aiokafka's admin client offers no public call for a metadata request of chosen topics without auto-creation.
    metadata = await admin._send_request(request)
    unknown: list[str] = []
    for topic in metadata.to_object()["topics"]:
        code = topic["error_code"]
        if code == UnknownTopicOrPartitionError.errno:
            unknown.append(topic["topic"])
        elif code == TopicAuthorizationFailedError.errno:
            log.warning("topic not visible to this service's principal", extra={"fields": {"topic": topic["topic"]}})
    return sorted(unknown)


def _created(results: list[dict[str, Any]]) -> list[str]:
    """The topics this request created; raises naming every topic the broker refused (other than one that another
    service created first)."""
    created: list[str] = []
    refused: list[str] = []
    for result in results:
        code = result["error_code"]
        if code == 0:
            created.append(str(result["topic"]))
        elif code != TopicAlreadyExistsError.errno:
            reason = result.get("error_message") or for_code(int(code)).message
            refused.append(f"{result['topic']}: {reason}")
    if refused:
        raise KafkaError("the broker refused to create topics: " + "; ".join(refused))
    return created
