"""Notify's use cases (mash_notify.deliveries) through its real bootstrap, with in-memory channels: a decision
becomes one delivery per recipient, sent once; a failed send goes again once the clock is past its back-off;
the same decision published again under a new event id sends nothing new; sealed items never leave.

The scenarios run in memory here (MemoryDatabase, TestKafkaBroker) and on the real broker and store in
tests/integration/notify/test_notify_use_cases_real.py. The delivery job is called directly, with the fixed
clock moved on, instead of waiting for its sweep.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from mash_notify.bootstrap import NotifyService, bootstrap
from mash_notify.channels import Channels
from mash_notify.domain.messages import messages_for
from mash_notify.domain.recipients import load_recipients
from mash_notify.settings import NotifySettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_schemas import DecisionMade
from mash_schemas.envelope import derived_event_id
from mash_schemas.topics import DECISION_MADE, NOTIFICATION_SENT

from tests.integration.notify.notify_support import (
    ASSESSMENT_TEAM_EMAIL,
    POLICE_SEALED,
    PROBATION_PERMITTED,
    PROBATION_SEALED,
    decision_made,
    new_referral_id,
)
from tests.support.service_harness import InMemory, RunningService

SEALED = (POLICE_SEALED, PROBATION_SEALED)


@dataclass
class Sent:
    """One message a channel took: where to and every word of it."""

    notification_id: str
    to: str
    text: str


@dataclass
class MemoryChannels:
    """Email and webhooks that keep what they are given; an address in `refusing` fails as a dead server would."""

    sent: list[Sent] = field(default_factory=list)
    refusing: set[str] = field(default_factory=set)

    async def send_email(self, *, notification_id: str, to: str, subject: str, body: str) -> None:
        self._take(notification_id, to, f"{subject}\n{body}")

    async def send_webhook(self, *, notification_id: str, url: str, json_body: str, secret_name: str | None) -> None:
        self._take(notification_id, url, json_body)

    def _take(self, notification_id: str, to: str, text: str) -> None:
        if to in self.refusing:
            raise ConnectionRefusedError(f"{to} is not answering")
        self.sent.append(Sent(notification_id, to, text))

    def to(self, address: str) -> list[Sent]:
        """What was sent to `address`."""
        return [s for s in self.sent if s.to == address]


@dataclass
class MemoryEmail:
    """The email port, kept in `memory`."""

    memory: MemoryChannels

    async def send(self, *, notification_id: str, to: str, subject: str, body: str) -> None:
        await self.memory.send_email(notification_id=notification_id, to=to, subject=subject, body=body)


@dataclass
class MemoryWebhook:
    """The webhook port, kept in `memory`."""

    memory: MemoryChannels

    async def send(self, *, notification_id: str, url: str, json_body: str, secret_name: str | None) -> None:
        await self.memory.send_webhook(notification_id=notification_id, url=url, json_body=json_body,
                                       secret_name=secret_name)


def notify_in_memory_channels(settings: NotifySettings, **parts: Any) -> NotifyService:
    """Notify's real bootstrap, handed channels that keep what they send."""
    kept = MemoryChannels()
    return bootstrap(settings, channels=Channels(MemoryEmail(kept), MemoryWebhook(kept)), **parts)


def memory(hub: RunningService[NotifyService]) -> MemoryChannels:
    """The in-memory channels of the running notify."""
    email = hub.service.channels.email
    assert isinstance(email, MemoryEmail)
    return email.memory


async def deliveries(hub: RunningService[NotifyService], referral_id: str) -> list[dict[str, Any]]:
    """Notify's delivery documents for `referral_id`."""
    return [doc async for doc in hub.database["deliveries"].find({"referral_id": referral_id})]


async def queued(hub: RunningService[NotifyService], event: DecisionMade) -> list[dict[str, Any]]:
    """Wait until every message of `event` is queued; its deliveries."""
    expected = len(messages_for(event, load_recipients()))

    async def all_there() -> list[dict[str, Any]] | None:
        found = await deliveries(hub, event.payload.referral_id)
        return found if len(found) == expected else None

    return await hub.eventually(all_there)


def operations(hub: RunningService[NotifyService]) -> dict[str, str]:
    """A bearer token for operations (the delivery log's reader)."""
    token = issue_token(hub.settings.jwt_secret.get_secret_value(), "Ops on call", [Role.OPERATIONS])
    return {"Authorization": f"Bearer {token}"}


class NotifyScenarios:
    """What notify does with a decision, wherever it runs."""

    async def test_a_decision_becomes_one_delivery_per_recipient_sent_once(
        self, hub: RunningService[NotifyService]
    ) -> None:
        event = decision_made(new_referral_id())
        await hub.publish(event, DECISION_MADE)
        queued_now = await queued(hub, event)
        assert {d["status"] for d in queued_now} == {"queued"}

        await hub.service.deliveries.deliver_due()
        await hub.publish(event, DECISION_MADE)  # redelivered: already queued, nothing new
        await hub.service.deliveries.deliver_due()

        stored = await deliveries(hub, event.payload.referral_id)
        assert len(stored) == len(queued_now)
        assert {(d["status"], d["attempts"]) for d in stored} == {("sent", 1)}
        addressed = [d for d in stored if d["channel"] != "record"]
        assert sorted(s.notification_id for s in memory(hub).sent) == sorted(d["_id"] for d in addressed)

        def all_sent() -> list[dict[str, Any]] | None:
            # On the real stack the events arrive one by one: wait for as many as there are deliveries.
            found = [e for e in hub.published(NOTIFICATION_SENT) if e["payload"]["referral_id"] == event.payload.referral_id]
            return found if len(found) >= len(stored) else None

        sent_events = await hub.eventually(all_sent)
        assert sorted(e["payload"]["notification_id"] for e in sent_events) == sorted(d["_id"] for d in stored)

        listed = await hub.http.get("/deliveries", params={"referral_id": event.payload.referral_id},
                                    headers=operations(hub))
        assert listed.status_code == 200
        assert {(d["status"], d["attempts"]) for d in listed.json()} == {("sent", 1)}

    async def test_a_failed_send_goes_again_once_the_clock_is_past_its_back_off(
        self, hub: RunningService[NotifyService]
    ) -> None:
        memory(hub).refusing.add(ASSESSMENT_TEAM_EMAIL)
        event = decision_made(new_referral_id())
        await hub.publish(event, DECISION_MADE)
        await queued(hub, event)

        await hub.service.deliveries.deliver_due()
        (handoff,) = [d for d in await deliveries(hub, event.payload.referral_id)
                      if d["message"]["recipient"] == ASSESSMENT_TEAM_EMAIL]
        assert (handoff["status"], handoff["attempts"]) == ("queued", 1)
        assert "ConnectionRefusedError" in handoff["last_error"]
        first_delay = NotifySettings(environment="test").retry.first_delay
        assert handoff["next_attempt_at"] == hub.clock() + first_delay

        memory(hub).refusing.clear()
        await hub.service.deliveries.deliver_due()  # not yet due: the clock has not moved
        assert memory(hub).to(ASSESSMENT_TEAM_EMAIL) == []

        hub.clock.advance(first_delay)
        await hub.service.deliveries.deliver_due()
        assert [s.notification_id for s in memory(hub).to(ASSESSMENT_TEAM_EMAIL)] == [handoff["_id"]]
        again = await hub.database["deliveries"].find_one({"_id": handoff["_id"]})
        assert again is not None and (again["status"], again["attempts"]) == ("sent", 2)
        assert [line["status"] for line in again["log"]] == ["queued", "retry_scheduled", "sent"]

    async def test_a_decision_republished_under_a_new_event_id_sends_nothing_new(
        self, hub: RunningService[NotifyService]
    ) -> None:
        referral_id = new_referral_id()
        event = decision_made(referral_id)
        await hub.publish(event, DECISION_MADE)
        first = await queued(hub, event)
        await hub.service.deliveries.deliver_due()
        sent_before = len(memory(hub).sent)

        copy = event.model_copy(update={"event_id": uuid.uuid4()})
        await hub.publish(copy, DECISION_MADE)
        # A later decision on the same referral (same key, same partition) shows the copy was consumed first.
        later = DecisionMade.build(event.payload.model_copy(update={"decision_id": f"D2-{referral_id}"}),
                                   correlation_id=referral_id, producer="decision",
                                   event_id=derived_event_id(uuid.uuid4(), "made"))
        await hub.publish(later, DECISION_MADE)
        expected = len(first) * 2

        async def both_queued() -> list[dict[str, Any]] | None:
            found = await deliveries(hub, referral_id)
            return found if len(found) == expected else None

        stored = await hub.eventually(both_queued)
        assert len([d for d in stored if d["decision_id"] == event.payload.decision_id]) == len(first)
        await hub.service.deliveries.deliver_due()
        new_sends = memory(hub).sent[sent_before:]
        assert new_sends and {s.notification_id for s in new_sends} <= {
            d["_id"] for d in stored if d["decision_id"] == f"D2-{referral_id}"}

    async def test_sealed_items_are_never_in_a_message(self, hub: RunningService[NotifyService]) -> None:
        event = decision_made(new_referral_id())
        await hub.publish(event, DECISION_MADE)
        await queued(hub, event)
        await hub.service.deliveries.deliver_due()

        sent = memory(hub).sent
        assert sent
        for message in sent:
            for sealed in SEALED:
                assert sealed not in message.text
        handoff_mail = memory(hub).to(ASSESSMENT_TEAM_EMAIL)
        assert handoff_mail and PROBATION_PERMITTED in handoff_mail[0].text
        stored = json.dumps([d["message"] async for d in hub.database["deliveries"].find({})], default=str)
        for sealed in SEALED:
            assert sealed not in stored


class TestNotifyInMemory(InMemory[NotifyService], NotifyScenarios):
    """Notify's use cases in memory."""

    bootstrap = staticmethod(notify_in_memory_channels)
    settings_class = NotifySettings
    outputs = (NOTIFICATION_SENT,)


pytestmark = pytest.mark.unit
