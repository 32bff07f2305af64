"""Topics are created with the retention the schedule gives them (retention.ms), on the real broker; a topic the
broker knows is left alone, and one it refuses to create stops the start with its reason."""

from __future__ import annotations

import logging

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from mash_runtime.settings import HubSettings
from mash_runtime.topics_admin import ensure_topics, unknown_topics
from mash_schemas.topics import DEAD_LETTER, LEGAL_HOLD, REFERRAL_RECEIVED, SUBJECT_ERASED

from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
DAY_MS = 24 * 3600 * 1000


async def test_topics_keep_what_the_retention_schedule_says(infrastructure: Infrastructure, namespace: str) -> None:
    settings = HubSettings(environment="test", topic_namespace=namespace, kafka_bootstrap=infrastructure.kafka_bootstrap)
    bases = [REFERRAL_RECEIVED, DEAD_LETTER, SUBJECT_ERASED, LEGAL_HOLD]
    await ensure_topics(settings, [settings.topic(base) for base in bases])

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)  # as the operator (tests/conftest.py)
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


async def test_a_topic_the_broker_knows_is_left_as_it_is_and_asking_creates_nothing(
    infrastructure: Infrastructure, namespace: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """The second start asks about its topics by name and creates nothing: the partitions the first gave stand. Asking
    about a topic the broker does not know does not create it (the local broker auto-creates topics a plain
    metadata request names)."""
    settings = HubSettings(environment="test", topic_namespace=namespace, kafka_bootstrap=infrastructure.kafka_bootstrap)
    topic = settings.topic(REFERRAL_RECEIVED)
    await ensure_topics(settings, [topic], {topic: 2})
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)  # as the operator (tests/conftest.py)
    await admin.start()

    async def partitions() -> int | None:
        """The topic's partition count once the broker describes it (KRaft applies a creation after answering)."""
        [described] = await admin.describe_topics([topic])
        return len(described["partitions"]) if described["error_code"] == 0 and described["partitions"] else None

    try:
        assert await eventually(partitions, timeout=30, what="the topic described") == 2
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="mash_runtime.topics_admin"):
            await ensure_topics(settings, [topic])  # the settings' partition count (3) would differ
        assert [r.getMessage() for r in caplog.records if r.name == "mash_runtime.topics_admin"] == []
        assert await partitions() == 2

        unheard_of = settings.topic("not.a.hub.topic")
        assert await unknown_topics(admin, [topic, unheard_of]) == [unheard_of]
        assert await unknown_topics(admin, [unheard_of]) == [unheard_of]  # the first look-up did not create it
    finally:
        await admin.close()


async def test_a_topic_the_broker_refuses_stops_the_start_naming_it_and_the_reason(
    infrastructure: Infrastructure, namespace: str,
) -> None:
    """Three copies asked of a single broker: the creation is refused, and the service does not carry on
    without its topic (the broker's auto-creation would later make it with the broker's defaults)."""
    settings = HubSettings(environment="test", topic_namespace=namespace, kafka_bootstrap=infrastructure.kafka_bootstrap,
                           kafka_replication_factor=3, kafka_min_insync_replicas=2)
    topic = settings.topic(REFERRAL_RECEIVED)
    with pytest.raises(KafkaError) as refused:
        await ensure_topics(settings, [topic])
    assert f"the broker refused to create topics: {topic}: " in str(refused.value)
    assert "replication factor" in str(refused.value).lower()
