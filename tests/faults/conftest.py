"""The fault suite: services killed and the broker restarted under load, and malformed input on every topic.

Bounded in time: each test waits on conditions with timeouts, never on the clock, and the suite as a whole
is sized to finish in a few minutes on a two-core machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from demo.postbox import Postbox
from tests.support.broker_control import BrokerControl
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
