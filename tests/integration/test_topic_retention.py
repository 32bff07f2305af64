"""Topics are created with the retention the schedule gives them (retention.ms), on the real broker."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from mash_runtime.broker import broker_security
from mash_runtime.settings import HubSettings
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.topics import DEAD_LETTER, LEGAL_HOLD, REFERRAL_RECEIVED, SUBJECT_ERASED

from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
DAY_MS = 24 * 3600 * 1000


async def test_topics_keep_what_the_retention_schedule_says(infrastructure: Infrastructure, namespace: str) -> None:
    settings = HubSettings(environment="test", topic_namespace=namespace, kafka_bootstrap=infrastructure.kafka_bootstrap)
    bases = [REFERRAL_RECEIVED, DEAD_LETTER, SUBJECT_ERASED, LEGAL_HOLD]
    await ensure_topics(settings, [settings.topic(base) for base in bases])

    kwargs: dict[str, Any] = {}
    if broker_security(settings) is not None:
        kwargs = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                  "sasl_plain_username": settings.kafka_username,
                  "sasl_plain_password": settings.kafka_password.get_secret_value() if settings.kafka_password else None}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **kwargs)
    await admin.start()

    async def described_retention() -> dict[str, int] | None:
        """retention.ms of every topic, or None while the broker has not yet applied a creation to the
        metadata it describes from (KRaft applies it asynchronously after CreateTopics answers)."""
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.topic(base)) for base in bases])
        found: dict[str, int] = {}
        for response in described:
            for resource in response.resources:
                error_code, name, entries = resource[0], resource[3], resource[4]
                kept = [int(entry[1]) for entry in entries if entry[0] == "retention.ms"]
                if error_code != 0 or not kept:
                    return None
                found[name] = kept[0]
        return found if len(found) == len(bases) else None

    try:
        retention = await eventually(described_retention, timeout=30, what="every topic's retention.ms described")
    finally:
        await admin.close()
    assert retention == {
        settings.topic(REFERRAL_RECEIVED): 30 * DAY_MS,
        settings.topic(DEAD_LETTER): 14 * DAY_MS,
        settings.topic(SUBJECT_ERASED): 60 * DAY_MS,
        settings.topic(LEGAL_HOLD): 6 * 365 * DAY_MS,
    }
