"""Integration tests: every test here talks to the real broker and store."""

from __future__ import annotations

import pytest

from tests.support.infrastructure import Infrastructure


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/integration as `integration`."""
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def hub_env(infrastructure: Infrastructure, namespace: str) -> dict[str, str]:
    """Environment for a service under test: real servers, this test's namespace, fast relay."""
    return {
        "MASH_ENVIRONMENT": "test",
        "MASH_KAFKA_BOOTSTRAP": infrastructure.kafka_bootstrap,
        "MASH_MONGO_URL": infrastructure.mongo_url,
        "MASH_TOPIC_NAMESPACE": namespace,
        "MASH_RELAY_POLL_SECONDS": "0.2",
    }
