"""The fault suite: services killed and the broker restarted under load, brokers of a three-broker cluster
killed, restarted and taken down two at a time under load, and malformed input on every topic.

Bounded in time: each test waits on conditions with timeouts, never on the clock, and the suite as a whole
is sized to finish in a few minutes on a two-core machine.

The cluster tests run on a second stack of their own (`kafka_cluster`: three KRaft nodes and a
mongo-java-server, started here through infra/stack.sh under <cache>/cluster, on the single stack's ports
plus 100 unless MASH_CLUSTER_KAFKA_PORT / MASH_CLUSTER_MONGO_PORT say otherwise), so `make test` proves them
whatever shape the main stack has; it is stopped when the session ends.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest

from demo.postbox import Postbox
from tests.support.broker_control import BrokerControl, ClusterStack
from tests.support.infrastructure import Infrastructure


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/faults as `faults`."""
    for item in items:
        if "tests/faults" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def broker(infrastructure: Infrastructure) -> Iterator[BrokerControl]:
    """The real broker, which the test may stop and start; it is running again when the test ends."""
    try:
        control = BrokerControl(infrastructure.kafka_bootstrap)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield control
    finally:
        control.start()  # a no-op when it runs


@pytest.fixture
async def postbox() -> AsyncIterator[Postbox]:
    """A real SMTP server and webhook receiver for notify's deliveries."""
    async with Postbox().running() as box:
        yield box


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[ClusterStack]:
    """A secured three-broker Kafka cluster of the fault suite's own, started afresh; never skipped."""
    cluster = ClusterStack.configured()
    try:
        cluster.up()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            cluster.down()  # whatever did start
        pytest.fail(
            f"could not start the three-broker cluster under {cluster.cache} (ports {cluster.env['MASH_KAFKA_PORT']}"
            f"-{int(cluster.env['MASH_KAFKA_PORT']) + 8}, mongo {cluster.env['MASH_MONGO_PORT']}): {exc}\n"
            "It needs Java 17+, the jars `make up` fetched and those ports free; set MASH_CLUSTER_KAFKA_PORT and"
            " MASH_CLUSTER_MONGO_PORT to free ones, and see the brokers' logs under <cache>/cluster/run/logs.",
            pytrace=False,
        )
    try:
        yield cluster
    finally:
        cluster.down()
