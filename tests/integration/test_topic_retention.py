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
    try:
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.topic(base)) for base in bases])
    finally:
        await admin.close()
    retention = {}
    for response in described:
        for resource in response.resources:
            name = resource[3]
            retention[name] = next(int(entry[1]) for entry in resource[4] if entry[0] == "retention.ms")
    assert retention == {
        settings.topic(REFERRAL_RECEIVED): 30 * DAY_MS,
        settings.topic(DEAD_LETTER): 14 * DAY_MS,
        settings.topic(SUBJECT_ERASED): 60 * DAY_MS,
        settings.topic(LEGAL_HOLD): 6 * 365 * DAY_MS,
    }
