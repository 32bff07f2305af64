"""The fault suite: services killed and the broker restarted under load, brokers of a three-broker cluster
killed, restarted and taken down two at a time under load, and malformed input on every topic.

Bounded in time: each test waits on conditions with timeouts, never on the clock, and the suite as a whole
is sized to finish in a few minutes on a two-core machine.

No fault test stops the broker the other tests share: the tests that stop, kill and restart brokers run on
stacks of their own (tests/support/broker_control.py), started here through infra/stack.sh and stopped when
the session ends: `kafka_cluster` (three KRaft nodes and a mongo-java-server under <cache>/cluster, on the
shared stack's ports plus 100) and `own_broker` (one node and a mongo-java-server under <cache>/faults-broker,
ports plus 200). So `make test` proves the cluster whatever shape the shared stack has, and runs the fault
suite beside the other real-stack tests (docs/testing.md).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest

from demo.kafka_access import ADMIN, KafkaAccess, authenticate_raw_clients
from demo.postbox import Postbox
from tests.support.broker_control import OwnStack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/faults as `faults`."""
    for item in items:
        if "tests/faults" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
async def postbox() -> AsyncIterator[Postbox]:
    """A real SMTP server and webhook receiver for notify's deliveries."""
    async with Postbox().running() as box:
        yield box


def _started(stack: OwnStack, what: str) -> Iterator[OwnStack]:
    """`stack` started afresh for the session and stopped after it; never skipped."""
    try:
        stack.up()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            stack.down()  # whatever did start
        pytest.fail(
            f"could not start {what} under {stack.cache} (ports {stack.env['MASH_KAFKA_PORT']}"
            f"-{int(stack.env['MASH_KAFKA_PORT']) + 8}, mongo {stack.env['MASH_MONGO_PORT']}): {exc}\n"
            "It needs Java 17+, the jars `make up` fetched and those ports free (tests/support/broker_control.py"
            " names the variables that move them), and see the brokers' logs under its run/logs.",
            pytrace=False,
        )
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[OwnStack]:
    """A secured three-broker Kafka cluster of the fault suite's own."""
    yield from _started(OwnStack.cluster(), "the three-broker cluster")


@pytest.fixture(scope="session")
def own_broker() -> Iterator[OwnStack]:
    """A secured single broker (and store) of the fault suite's own, which its test stops and starts."""
    yield from _started(OwnStack.single_broker(), "the fault suite's own broker")


@contextlib.contextmanager
def using(stack: OwnStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[KafkaAccess]:
    """This test's processes and raw clients use `stack` (its addresses, replication and credentials).

    The hub's processes inherit the environment (demo.hub), so they create topics with the replication and
    min.insync.replicas `stack.sh env` prints for that stack; aiokafka clients made here log in as its
    operator (its passwords are its own) until the test ends.
    """
    for name, value in stack.exports.items():
        monkeypatch.setenv(name, value)
    access = stack.access()
    undo = authenticate_raw_clients(access, ADMIN)
    try:
        yield access
    finally:
        undo()


@pytest.fixture
def on_cluster(kafka_cluster: OwnStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[KafkaAccess]:
    """This test runs on the three-broker cluster."""
    with using(kafka_cluster, monkeypatch) as access:
        yield access


@pytest.fixture
def on_own_broker(own_broker: OwnStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[KafkaAccess]:
    """This test runs on the fault suite's own single broker."""
    with using(own_broker, monkeypatch) as access:
        yield access
