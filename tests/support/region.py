"""A region of this test's own on the real broker: the packaged example under the test's namespace, granted.

Every hub's namespace becomes <test namespace>-<hub id>, so tests sharing the cluster never see each
other's hubs; the region's users and ACLs are created as the stack's operator (demo/kafka_access.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from mash_runtime.region import Region, example_region_file, load_region

from demo.kafka_access import ADMIN, KafkaAccess
from tests.support.kafka_security import skip_on_a_developers_insecure_broker


def secured_access() -> KafkaAccess:
    """The secured stack's principals; the test fails, saying what to do, on a broker without authentication."""
    access = KafkaAccess.from_environment()
    if access is None:
        skip_on_a_developers_insecure_broker()
        pytest.fail("no Kafka credentials: the region tests need the secured broker of infra/stack.sh (its "
                    "<cache>/run/kafka-credentials.env, or MASH_KAFKA_CREDENTIALS).", pytrace=False)
    return access


def region_of_test(namespace: str, folder: Path) -> tuple[Region, Path]:
    """The example region under this test's namespace, and the file its processes are given."""
    region = load_region(example_region_file()).with_namespaces(namespace)
    return region, region.write(folder / "region.yaml")


async def create_topics(bootstrap: str, access: KafkaAccess, topics: list[str], partitions: int = 1) -> None:
    """Create topics as the operator (as the hubs' services would on start)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **access.client_options(ADMIN))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1) for topic in topics])
    finally:
        await admin.close()
