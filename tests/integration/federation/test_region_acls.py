"""Several hubs on one cluster: the broker itself keeps each hub's principals, and each agency, to their own hubs.

The region is the packaged example (Westshire and Eastshire, an agency in one or both, one police force)
under this test's namespaces, with the users and ACLs demo/kafka_access.py creates for it. Each refusal
is checked beside the same principal's allowed counterpart, so a test that passes because nothing can
read anything is impossible.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError
from mash_runtime.region import Region
from mash_schemas.topics import (
    DEAD_LETTER,
    POLICE_NOTIFICATION,
    REFERRAL_RECEIVED,
    agency_response_topic,
    enquiry_request_topic,
)

from demo.kafka_access import ADMIN, FEDERATION_TRANSFER, KafkaAccess
from tests.support.infrastructure import Infrastructure
from tests.support.region import create_topics, region_of_test, secured_access


@pytest.fixture
async def granted(infrastructure: Infrastructure, namespace: str, tmp_path: Path) -> tuple[Region, KafkaAccess]:
    """This test's region, its users and ACLs created, one record on every topic the tests read."""
    region, _ = region_of_test(namespace, tmp_path)
    access = await secured_access().grant_region(infrastructure.kafka_bootstrap, region)
    west, east = region.hub("westshire"), region.hub("eastshire")
    topics = [hub.topic(topic) for hub in (west, east)
              for topic in (REFERRAL_RECEIVED, POLICE_NOTIFICATION, FEDERATION_TRANSFER, DEAD_LETTER,
                            enquiry_request_topic("police"), enquiry_request_topic("youth-offending"),
                            agency_response_topic("police"), agency_response_topic("youth-offending"))]
    topics.append(region.police_feed_topic("shires-police"))
    await create_topics(infrastructure.kafka_bootstrap, access, topics)
    async with producer(infrastructure.kafka_bootstrap, **access.client_options(ADMIN)) as operator:
        for topic in topics:
            await operator.send_and_wait(topic, b"{}", key=b"r-1")
    return region, access


@contextlib.asynccontextmanager
async def producer(bootstrap: str, **options: Any) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                              request_timeout_ms=15000, **options)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def read(bootstrap: str, topic: str, group: str, options: dict[str, Any]) -> KafkaError | int:
    """The broker's refusal when this principal reads `topic` in `group`, else how many records it read."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                **options)
    try:
        await consumer.start()
        for _ in range(10):
            batches = await consumer.getmany(timeout_ms=1000)
            if batches:
                return sum(len(records) for records in batches.values())
    except KafkaError as exc:
        return exc
    finally:
        await consumer.stop()
    return 0


async def test_a_hubs_service_reads_its_own_hubs_topics_and_never_anothers(
    infrastructure: Infrastructure, granted: tuple[Region, KafkaAccess],
) -> None:
    region, access = granted
    west, east = region.hub("westshire"), region.hub("eastshire")
    bootstrap, decision = infrastructure.kafka_bootstrap, access.client_options(west.principal("decision"))

    assert await read(bootstrap, west.topic(REFERRAL_RECEIVED), f"{west.namespace}.decision.t", decision) == 1
    refused = await read(bootstrap, east.topic(REFERRAL_RECEIVED), f"{west.namespace}.decision.t", decision)
    assert isinstance(refused, TopicAuthorizationFailedError), refused
    own_group_elsewhere = await read(bootstrap, east.topic(REFERRAL_RECEIVED), f"{east.namespace}.decision.t",
                                     decision)
    assert isinstance(own_group_elsewhere, TopicAuthorizationFailedError | GroupAuthorizationFailedError)
    # The single-hub principals of the stack have nothing on a region's hubs.
    single = await read(bootstrap, west.topic(REFERRAL_RECEIVED), f"{west.namespace}.decision.t",
                        access.client_options("decision"))
    assert isinstance(single, TopicAuthorizationFailedError | GroupAuthorizationFailedError), single


async def test_a_hubs_service_writes_only_its_own_hubs_topics(
    infrastructure: Infrastructure, granted: tuple[Region, KafkaAccess],
) -> None:
    region, access = granted
    west, east = region.hub("westshire"), region.hub("eastshire")
    async with producer(infrastructure.kafka_bootstrap, **access.client_options(east.principal("intake"))) as intake:
        await intake.send_and_wait(east.topic(REFERRAL_RECEIVED), b"{}", key=b"r-1")
        with pytest.raises(TopicAuthorizationFailedError):
            await intake.send_and_wait(west.topic(REFERRAL_RECEIVED), b"{}", key=b"r-1")


async def test_an_agency_reads_every_hub_it_serves_and_is_refused_by_a_hub_it_does_not(
    infrastructure: Infrastructure, granted: tuple[Region, KafkaAccess],
) -> None:
    region, access = granted
    west, east = region.hub("westshire"), region.hub("eastshire")
    bootstrap = infrastructure.kafka_bootstrap
    police, yot = access.client_options("agency-police"), access.client_options("agency-youth-offending")
    assert [hub.id for hub in region.hubs_of_agency("youth-offending")] == ["westshire"]

    for hub in (west, east):  # the police serve both councils: one principal, both hubs
        assert await read(bootstrap, hub.topic(enquiry_request_topic("police")), f"{hub.namespace}.agency-police",
                          police) == 1
    assert await read(bootstrap, west.topic(enquiry_request_topic("youth-offending")),
                      f"{west.namespace}.agency-youth-offending", yot) == 1
    refused = await read(bootstrap, east.topic(enquiry_request_topic("youth-offending")),
                         f"{east.namespace}.agency-youth-offending", yot)
    assert isinstance(refused, TopicAuthorizationFailedError | GroupAuthorizationFailedError), refused
    async with producer(bootstrap, **yot) as answers:
        await answers.send_and_wait(west.topic(agency_response_topic("youth-offending")), b"{}", key=b"r-1")
        with pytest.raises(TopicAuthorizationFailedError):
            await answers.send_and_wait(east.topic(agency_response_topic("youth-offending")), b"{}", key=b"r-1")


async def test_only_the_receiving_hubs_intake_reads_its_transfer_topic_and_only_neighbours_write_it(
    infrastructure: Infrastructure, granted: tuple[Region, KafkaAccess],
) -> None:
    region, access = granted
    west, east = region.hub("westshire"), region.hub("eastshire")
    bootstrap, transfer = infrastructure.kafka_bootstrap, west.topic(FEDERATION_TRANSFER)
    assert await read(bootstrap, transfer, f"{west.namespace}.intake.transfers",
                      access.client_options(west.principal("intake"))) == 1
    refused = await read(bootstrap, transfer, f"{east.namespace}.intake.transfers",
                         access.client_options(east.principal("intake")))
    assert isinstance(refused, TopicAuthorizationFailedError), refused
    async with producer(bootstrap, **access.client_options(east.principal("decision"))) as sender:
        await sender.send_and_wait(transfer, b"{}", key=b"r-1")
    async with producer(bootstrap, **access.client_options(west.principal("decision"))) as itself:
        with pytest.raises(TopicAuthorizationFailedError):  # a hub does not transfer to itself
            await itself.send_and_wait(transfer, b"{}", key=b"r-1")


async def test_the_force_writes_only_its_feed_and_its_router_only_the_hubs_police_topics(
    infrastructure: Infrastructure, granted: tuple[Region, KafkaAccess],
) -> None:
    region, access = granted
    force, west = region.police_force("shires-police"), region.hub("westshire")
    bootstrap, feed = infrastructure.kafka_bootstrap, region.police_feed_topic("shires-police")
    async with producer(bootstrap, **access.client_options(force.feed_principal)) as police:
        await police.send_and_wait(feed, b"{}", key=b"n-1")
        with pytest.raises(TopicAuthorizationFailedError):  # straight into a hub: only through the router
            await police.send_and_wait(west.topic(POLICE_NOTIFICATION), b"{}", key=b"n-1")
    async with producer(bootstrap, **access.client_options(force.router_principal)) as router:
        for hub in region.hubs:
            await router.send_and_wait(hub.topic(POLICE_NOTIFICATION), b"{}", key=b"n-1")
        with pytest.raises(TopicAuthorizationFailedError):
            await router.send_and_wait(west.topic(REFERRAL_RECEIVED), b"{}", key=b"n-1")
