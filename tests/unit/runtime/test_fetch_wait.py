"""The fetch wait a service's or a kit's settings name is the one its Kafka consumers are built with.

`MASH_KAFKA_FETCH_MAX_WAIT_MS` (services) and `MASH_AGENCY_FETCH_MAX_WAIT_MS` (agency kits) set Kafka's
fetch.max.wait.ms: how often an idle consumer asks the broker again (docs/deploy.md, docs/testing.md). faststream
keeps the arguments it will build each aiokafka consumer with on the subscriber (`_connection_args`; it has no public
accessor), so that is what these tests read, for one-at-a-time and batch subscriptions alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from mash_agency.kit import build_kit
from mash_agency.settings import AgencySettings
from mash_runtime.broker import build_broker
from mash_runtime.consuming import DeadLetters, MessageOrigin, subscribe
from mash_runtime.settings import HubSettings
from mash_schemas import TimescaleAlertRaised
from mash_schemas.topics import TIMESCALE_ALERT

pytestmark = pytest.mark.unit


def consumer_arguments(broker: KafkaBroker) -> list[dict[str, Any]]:
    """What each subscriber of `broker` will build its consumer with."""
    return [dict(subscriber._connection_args) for subscriber in broker.subscribers]  # type: ignore[attr-defined]


def subscribed(**settings: Any) -> KafkaBroker:
    """A broker with one dead-lettering subscription declared by `mash_runtime.consuming.subscribe`."""
    hub = HubSettings(environment="test", topic_namespace="unitfetch", service_name="probe", **settings)
    broker = build_broker(hub)

    async def apply(_event: Any, _origin: MessageOrigin) -> None:
        return None

    subscribe(broker, hub, topic=hub.topic(TIMESCALE_ALERT), event_model=TimescaleAlertRaised, group_id="probe",
              handler=apply, dead_letters=DeadLetters(broker, hub))
    return broker


@pytest.mark.parametrize("batch", [1, 20])
def test_a_service_consumer_waits_as_long_as_its_settings_say(batch: int) -> None:
    [arguments] = consumer_arguments(subscribed(kafka_fetch_max_wait_ms=2_000, consumer_batch=batch))
    assert arguments["fetch_max_wait_ms"] == 2_000


def test_a_service_consumer_waits_kafkas_default_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASH_KAFKA_FETCH_MAX_WAIT_MS", raising=False)  # tests/conftest.py sets it for the suite
    [arguments] = consumer_arguments(subscribed())
    assert arguments["fetch_max_wait_ms"] == 500


def test_a_kit_consumer_waits_as_long_as_its_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASH_AGENCY_FETCH_MAX_WAIT_MS", raising=False)  # tests/conftest.py sets it for the suite
    told = build_kit(AgencySettings(name="health", namespace="t1", fetch_max_wait_ms=2_000))
    untold = build_kit(AgencySettings(name="health", namespace="t1"))
    assert [a["fetch_max_wait_ms"] for a in consumer_arguments(told.broker)] == [2_000]
    assert [a["fetch_max_wait_ms"] for a in consumer_arguments(untold.broker)] == [500]
