"""The scenario harness itself (tests/support/service_harness.py), on a probe service with the shape of every
service's bootstrap: an event consumed is stored once, and what the service publishes is seen by the test.
The same scenario class runs in memory here and on the real stack in
tests/integration/test_service_harness_real.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from mash_runtime.clock import Clock, utc_now
from mash_runtime.consuming import MessageOrigin
from mash_runtime.outbox import OutboxEntry
from mash_runtime.service import ServiceRuntime, TopicAdmin
from mash_runtime.settings import HubSettings
from mash_runtime.store import Change
from mash_schemas.envelope import derived_event_id
from mash_schemas.referral import ReferralReceived
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.insight_events import referral_event
from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService

ECHO = "probe.echo"


class ProbeSettings(HubSettings):
    """The probe's settings."""

    service_name: str = "probe"


@dataclass
class ProbeService:
    """What the probe's bootstrap returns."""

    runtime: ServiceRuntime
    app: FastAPI


def bootstrap(settings: ProbeSettings, *, database: AsyncDatabase[dict[str, Any]] | None = None,
              broker: KafkaBroker | None = None, clock: Clock = utc_now,
              topic_admin: TopicAdmin | None = None) -> ProbeService:
    """A service that files each referral once and echoes it, at the time its clock says."""
    runtime = ServiceRuntime(settings, database=database, broker=broker, clock=clock, topic_admin=topic_admin)
    files = runtime.store("files")
    echo_topic = runtime.topic(ECHO)

    async def on_referral(event: ReferralReceived, origin: MessageOrigin) -> None:
        def decide(state: dict[str, Any] | None) -> Change:
            echo = ReferralReceived.build(event.payload, correlation_id=event.correlation_id, producer="probe",
                                          event_id=derived_event_id(event.event_id, "echo"),
                                          occurred_at=runtime.clock())
            return Change({"seen": (state or {}).get("seen", 0) + 1}, [OutboxEntry.of(echo, echo_topic)])

        await files.apply(event.correlation_id, decide, event_id=str(event.event_id))

    runtime.subscribe(ReferralReceived.TOPIC, ReferralReceived, "probe", on_referral)
    return ProbeService(runtime, runtime.http_app("probe", "A probe service"))


class ProbeScenarios:
    """What any service's scenarios do: feed events, read the store and the published records."""

    async def test_a_referral_delivered_twice_is_filed_once_and_echoed_once(
        self, hub: RunningService[ProbeService]
    ) -> None:
        event = referral_event("MASH-9", MONDAY_MORNING, person_refs=("LA-9",))
        for _ in range(2):
            await hub.publish(event, ReferralReceived.TOPIC)

        async def filed() -> dict[str, Any] | None:
            return await hub.database["files"].find_one({"_id": "MASH-9", "seen": 1})

        await hub.eventually(filed)
        echoes = await hub.eventually(lambda: hub.published(ECHO))
        assert [e["event_id"] for e in echoes] == [str(derived_event_id(event.event_id, "echo"))]
        assert echoes[0]["occurred_at"].startswith(MONDAY_MORNING.isoformat()[:19])
        assert (await hub.http.get("/health")).json()["service"] == "probe"


class TestProbeInMemory(InMemory[ProbeService], ProbeScenarios):
    """The probe's scenarios in memory."""

    bootstrap = staticmethod(bootstrap)
    settings_class = ProbeSettings
    outputs = (ECHO,)


pytestmark = pytest.mark.unit
