"""The kit on faststream's in-memory broker: a request in, an answer out; bad messages skipped."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from mash_agency.adapter import AgencyAnswer
from mash_agency.answer import response_event_id
from mash_agency.kit import AgencyKit, build_kit
from mash_agency.settings import AgencySettings
from mash_schemas import AgencyResponded, EnquiryRequest

from tests.unit.agency.agency_builders import NOW, request_event, scenario_request

pytestmark = pytest.mark.unit


@dataclass
class Received:
    """What reached the response topic: (key, body) pairs."""

    messages: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    def responses(self) -> list[AgencyResponded]:
        return [AgencyResponded.model_validate_json(body) for _, body in self.messages]


@dataclass
class Pauses:
    """A stand-in for asyncio.sleep that records the delays asked for."""

    asked: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


class BrokenAdapter:
    """An adapter whose records system is down."""

    async def search(self, request: EnquiryRequest) -> AgencyAnswer:
        raise ConnectionError("records system unavailable")


def listen(broker: KafkaBroker, topic: str) -> Received:
    received = Received()

    @broker.subscriber(topic)
    async def on_response(message: KafkaMessage) -> None:
        received.messages.append((getattr(message.raw_message, "key", None), message.body))

    return received


def settings(**overrides: Any) -> AgencySettings:
    values: dict[str, Any] = {"name": "health", "namespace": "t1"} | overrides
    return AgencySettings(**values)


@pytest.fixture
async def kit_and_responses() -> AsyncIterator[tuple[AgencyKit, Received]]:
    kit = build_kit(settings(), now=lambda: NOW)
    received = listen(kit.broker, kit.settings.response_topic)
    async with TestKafkaBroker(kit.broker):
        yield kit, received


async def send(kit: AgencyKit, body: bytes, key: bytes = b"ref-0001") -> None:
    await kit.broker.publish(body, kit.settings.request_topic, key=key)


async def test_a_request_in_gives_a_response_out_keyed_by_referral(
    kit_and_responses: tuple[AgencyKit, Received],
) -> None:
    kit, received = kit_and_responses
    event = request_event(scenario_request(1, "health", referral_id="ref-42", request_id="req-5"))

    await send(kit, event.model_dump_json().encode(), key=b"ref-42")

    assert [key for key, _ in received.messages] == [b"ref-42"]
    (response,) = received.responses()
    assert response.event_id == response_event_id("req-5", "health")
    assert response.causation_id == event.event_id
    assert response.correlation_id == "ref-42"
    assert response.payload.outcome == "information_held"
    assert [item.item_id for item in response.payload.items] == ["hlth-s1-001"]


def test_topics_are_the_agencys_own_under_the_namespace() -> None:
    with_namespace = settings()
    without = settings(namespace=None)

    assert with_namespace.request_topic == "t1.mash.enquiry.request.health"
    assert with_namespace.response_topic == "t1.mash.agency.response.health"
    assert without.request_topic == "mash.enquiry.request.health"
    assert without.response_topic == "mash.agency.response.health"


async def test_a_malformed_message_is_skipped_and_logged_with_its_origin(
    kit_and_responses: tuple[AgencyKit, Received], caplog: pytest.LogCaptureFixture
) -> None:
    kit, received = kit_and_responses
    good = request_event(scenario_request(5, "health"))

    with caplog.at_level(logging.ERROR, logger="mash_agency"):
        await send(kit, b"{not json at all")
        await send(kit, good.model_dump_json().encode())

    assert len(received.messages) == 1  # the partition was not blocked
    assert "t1.mash.enquiry.request.health[0]@0" in caplog.text


async def test_a_message_that_is_not_a_request_is_skipped_without_echoing_its_content(
    kit_and_responses: tuple[AgencyKit, Received], caplog: pytest.LogCaptureFixture
) -> None:
    kit, received = kit_and_responses
    wrong = json.loads(request_event(scenario_request(1, "health")).model_dump_json())
    wrong["payload"]["subjects"][0]["family_name"] = ""  # invalid: a name is required
    wrong["payload"]["household"][0]["given_name"] = "Zebedee-Unique"

    with caplog.at_level(logging.ERROR, logger="mash_agency"):
        await send(kit, json.dumps(wrong).encode())

    assert received.messages == []
    assert "payload.subjects.0.family_name" in caplog.text
    assert "Zebedee-Unique" not in caplog.text  # people's details stay out of the logs


async def test_a_request_addressed_to_another_agency_is_not_answered(
    kit_and_responses: tuple[AgencyKit, Received],
) -> None:
    kit, received = kit_and_responses

    await send(kit, request_event(scenario_request(4, "police")).model_dump_json().encode())

    assert received.messages == []


async def test_a_reminder_yields_the_same_response_event(
    kit_and_responses: tuple[AgencyKit, Received],
) -> None:
    kit, received = kit_and_responses
    first = request_event(scenario_request(3, "health", request_id="req-3"))
    reminder = request_event(scenario_request(3, "health", request_id="req-3", reminder_number=1))

    await send(kit, first.model_dump_json().encode())
    await send(kit, reminder.model_dump_json().encode())

    ids = {response.event_id for response in received.responses()}
    assert ids == {response_event_id("req-3", "health")}
    assert len(received.messages) == 2


async def test_nothing_known_is_answered_too(kit_and_responses: tuple[AgencyKit, Received]) -> None:
    kit, received = kit_and_responses

    await send(kit, request_event(scenario_request(4, "health")).model_dump_json().encode())

    (response,) = received.responses()
    assert response.payload.outcome == "nothing_known"


async def test_logs_never_carry_item_summaries(
    kit_and_responses: tuple[AgencyKit, Received], caplog: pytest.LogCaptureFixture
) -> None:
    kit, received = kit_and_responses

    with caplog.at_level(logging.DEBUG):
        await send(kit, request_event(scenario_request(4, "health")).model_dump_json().encode())
        await send(kit, request_event(scenario_request(1, "health")).model_dump_json().encode())

    (_, answered) = received.responses()
    summary = answered.payload.items[0].summary
    assert "answering request" in caplog.text
    assert summary[:40] not in caplog.text


async def test_when_the_adapter_fails_nothing_is_published_and_the_error_surfaces() -> None:
    pauses = Pauses()
    kit = build_kit(settings(retry_backoff=7.5), BrokenAdapter(), now=lambda: NOW, pause=pauses)
    received = listen(kit.broker, kit.settings.response_topic)

    async with TestKafkaBroker(kit.broker):
        with pytest.raises(ConnectionError):
            await send(kit, request_event(scenario_request(1, "health")).model_dump_json().encode())

    # The error reaching faststream is what makes it nack rather than commit: the request comes back,
    # after the back-off, so a records system that is down is not hammered.
    assert received.messages == []
    assert pauses.asked == [7.5]


async def test_the_simulated_delay_is_drawn_from_the_configured_range() -> None:
    pauses = Pauses()
    kit = build_kit(settings(response_delay="0.5-2.0"), now=lambda: NOW, pause=pauses, rng=random.Random(7))
    received = listen(kit.broker, kit.settings.response_topic)

    async with TestKafkaBroker(kit.broker):
        for number in (1, 3, 5):
            await send(kit, request_event(scenario_request(number, "health")).model_dump_json().encode())

    assert len(pauses.asked) == 3
    assert all(0.5 <= seconds <= 2.0 for seconds in pauses.asked)
    assert len(set(pauses.asked)) == 3
    assert len(received.messages) == 3


async def test_no_delay_configured_means_no_pause() -> None:
    pauses = Pauses()
    kit = build_kit(settings(), now=lambda: NOW, pause=pauses)
    listen(kit.broker, kit.settings.response_topic)

    async with TestKafkaBroker(kit.broker):
        await send(kit, request_event(scenario_request(1, "health")).model_dump_json().encode())

    assert pauses.asked == []


async def test_a_silent_agency_reads_nothing_and_answers_nothing() -> None:
    kit = build_kit(settings(never_answer=True), now=lambda: NOW)
    received = listen(kit.broker, kit.settings.response_topic)

    async with TestKafkaBroker(kit.broker):
        await send(kit, request_event(scenario_request(1, "health")).model_dump_json().encode())

    assert received.messages == []
    assert kit.subscriber is None
    assert len(kit.broker.subscribers) == 1  # only the test's listener


def test_subscriber_shares_the_agency_group_and_commits_only_after_answering() -> None:
    kit = build_kit(settings(name="probation"))

    subscriber = kit.subscriber
    assert subscriber is not None
    assert kit.broker.subscribers == [subscriber]
    assert subscriber.group_id == "t1.agency-probation"
    assert build_kit(settings(name="probation", namespace=None)).settings.consumer_group == "agency-probation"
    assert subscriber.ack_policy is AckPolicy.NACK_ON_ERROR
    (topic,) = subscriber.topics
    assert topic.name == "t1.mash.enquiry.request.probation"
    assert topic.num_partitions == 3  # room for several copies, should the kit be the one to create it
    assert subscriber._connection_args["auto_offset_reset"] == "earliest"
    assert subscriber._connection_args["enable_auto_commit"] is False


def test_producer_waits_for_all_replicas_and_is_idempotent() -> None:
    kit = build_kit(settings(bootstrap_servers="k1:9092, k2:9092"))

    connection = kit.broker._connection_kwargs
    assert connection["acks"] == "all"
    assert connection["enable_idempotence"] is True
    assert connection["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert "sasl_mechanism" not in connection


def test_sasl_scram_512_credentials_reach_the_connection() -> None:
    kit = build_kit(settings(username="health-kit", password="s3cret"))

    connection = kit.broker._connection_kwargs
    assert connection["sasl_mechanism"] == "SCRAM-SHA-512"
    assert connection["security_protocol"] == "SASL_PLAINTEXT"
    assert connection["sasl_plain_username"] == "health-kit"
    assert connection["sasl_plain_password"] == "s3cret"
