"""The research desk and agency kits on the real broker and store.

The enquiry service runs in this process (its real lifespan: consumers, relay, deadline sweeper) or as
`python -m mash_enquiry`; agencies run the real kit, in this process or as `python -m mash_agency run`.
Helpers here open enquiries the way the decision service does (an `enquiry.opened` event on the
broker) and read back what went over the topics, what the consumer groups committed and what the
desk stored.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from mash_agency import AgencyAdapter, AgencyKit, AgencySettings, build_kit
from mash_enquiry.app import create_app
from mash_enquiry.bootstrap import bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_runtime.auth import Role, issue_token
from mash_runtime.clock import Clock
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
from mash_schemas import (
    Address,
    BragRating,
    Consent,
    ConsentStatus,
    Enquiry,
    EnquiryOpened,
    HouseholdMember,
    Subject,
)
from mash_schemas.topics import ENQUIRY_OPENED
from pymongo import AsyncMongoClient

from demo.hub import HubProcess
from tests.support.infrastructure import Infrastructure
from tests.support.topics import produce_raw

REPO = Path(__file__).resolve().parents[3]
MANAGER = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_JWT_SECRET, 'Mo Patel (MASH manager)', [Role.MANAGER])}"}


def an_enquiry(referral_id: str, agencies: list[str], due_in: float, *, enquiry_id: str | None = None) -> Enquiry:
    """An amber enquiry about Kai Turner (scenario 1's family: the simulated agencies hold records on
    his mother and father), due `due_in` seconds from now."""
    home = Address(lines=["14 Brook Street"], town="Exeter", postcode="EX4 6PX")
    return Enquiry(
        enquiry_id=enquiry_id or f"enq-{referral_id}",
        referral_id=referral_id,
        rating=BragRating.AMBER,
        agencies=agencies,
        due_at=datetime.now(UTC) + timedelta(seconds=due_in),
        subjects=[Subject(subject_id="s1-kai", given_name="Kai", family_name="Turner",
                          date_of_birth=date(2012, 9, 14), nhs_number="9991000011", address=home)],
        household=[
            HouseholdMember(given_name="Leanne", family_name="Turner", relationship="mother",
                            date_of_birth=date(1989, 2, 3)),
            HouseholdMember(given_name="Dean", family_name="Turner", relationship="father",
                            date_of_birth=date(1986, 6, 21)),
        ],
        questions=["Is anything known about Kai, his mother or his father?"],
        consent=Consent(status=ConsentStatus.NOT_SOUGHT, recorded_by="Mo Patel (MASH manager)",
                        reason="Police referral after an offence; the family has not yet been asked."),
        lawful_basis="Children Act 1989 s17; sharing under the information sharing agreement",
        opened_by="Mo Patel (MASH manager)",
    )


def namespaced(namespace: str, topic: str) -> str:
    """`topic` as deployed in this test's namespace."""
    return f"{namespace}.{topic}"


async def open_enquiry(bootstrap: str, namespace: str, enquiry: Enquiry) -> EnquiryOpened:
    """Publish `enquiry.opened` as the decision service would (keyed by referral id)."""
    event = EnquiryOpened.build(enquiry, correlation_id=enquiry.referral_id, producer="decision")
    await produce_raw(bootstrap, namespaced(namespace, ENQUIRY_OPENED), event.model_dump_json().encode(),
                      key=enquiry.referral_id.encode())
    return event


def enquiry_settings(infrastructure: Infrastructure, namespace: str) -> EnquirySettings:
    """The enquiry service's settings for a test: real servers, its own namespace and database; the
    rest (e.g. MASH_ENQUIRY_AGENCIES_FILE) from the environment."""
    return EnquirySettings(
        environment="test",
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        mongo_url=infrastructure.mongo_url,
        topic_namespace=namespace,
        mongo_database=f"{namespace}_enquiry",
        relay_poll_seconds=0.2,
        sweep_seconds=0.3,
    )


@pytest.fixture
def desk_settings(infrastructure: Infrastructure, namespace: str) -> EnquirySettings:
    """The enquiry service's settings for this test, with the packaged agency directory."""
    return enquiry_settings(infrastructure, namespace)


@contextlib.asynccontextmanager
async def running_desk(settings: EnquirySettings, clock: Clock | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Run the enquiry service in this process, as `python -m mash_enquiry` would; yield a client on its
    HTTP routes. A test that reaches reminder points and due times passes a FixedClock and moves it,
    rather than waiting for the wall clock (a loaded machine can sleep through a short window)."""
    app = create_app(settings) if clock is None else bootstrap(settings, clock=clock).app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://enquiry.test", timeout=15.0) as http:
            yield http


def kit_settings(infrastructure: Infrastructure, namespace: str, agency: str) -> AgencySettings:
    """An agency kit's settings: the hub's broker and namespace, the simulated adapter by default."""
    return AgencySettings(name=agency, bootstrap_servers=infrastructure.kafka_bootstrap, namespace=namespace,
                          retry_backoff=0.5)


@contextlib.asynccontextmanager
async def running_kit(settings: AgencySettings, adapter: AgencyAdapter | None = None) -> AsyncIterator[AgencyKit]:
    """Run an agency's kit in this process (its real broker, consumer group and publisher)."""
    kit = build_kit(settings, adapter)
    await kit.broker.start()
    try:
        yield kit
    finally:
        await kit.broker.stop()


def kit_process(infrastructure: Infrastructure, namespace: str, agency: str, log_path: Path,
                *arguments: str) -> HubProcess:
    """`python -m mash_agency run --agency <agency> ...` as its own OS process (not yet started)."""
    env = {"MASH_KAFKA_BOOTSTRAP": infrastructure.kafka_bootstrap, "MASH_TOPIC_NAMESPACE": namespace,
           "PYTHONUNBUFFERED": "1"}
    argv = ["-m", "mash_agency", "run", "--agency", agency, *arguments]
    return HubProcess(f"agency-{agency}", argv, env, log_path)


ANSWERED = re.compile(r"answering request (?P<request_id>\S+) \(reminder (?P<reminder>\d+)\)")
ASSIGNMENT = re.compile(r"(Setting newly assigned partitions|Revoking previously assigned partitions) (?P<tps>.*)")


def kit_answers(log_path: Path) -> list[str]:
    """The request ids a kit process says it answered, in order (its own log line per answer)."""
    if not log_path.exists():
        return []
    return [found["request_id"] for found in ANSWERED.finditer(log_path.read_text(encoding="utf-8"))]


def kit_assignment(log_path: Path) -> set[int] | None:
    """The request-topic partitions a kit process holds now, from aiokafka's rebalance log lines;
    None while a rebalance is under way (partitions revoked, none assigned yet) or before any."""
    if not log_path.exists():
        return None
    lines = [found for found in ASSIGNMENT.finditer(log_path.read_text(encoding="utf-8"))]
    if not lines or lines[-1].group(1).startswith("Revoking"):
        return None
    return {int(partition) for partition in re.findall(r"partition=(\d+)", lines[-1]["tps"])}


@contextlib.asynccontextmanager
async def kafka_admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    """aiokafka's admin client on the real broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def committed(bootstrap: str, group: str, topic: str) -> int:
    """How many messages of `topic` consumer group `group` has committed, over all partitions."""
    async with kafka_admin(bootstrap) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return sum(max(mark.offset, 0) for tp, mark in offsets.items() if tp.topic == topic)


async def messages_on(bootstrap: str, topic: str) -> int:
    """How many messages `topic` holds on the broker (the sum of its partitions' end offsets)."""
    partitions = await partition_count(bootstrap, topic)
    if partitions is None:
        return 0
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, partition) for partition in range(partitions)])
    finally:
        await consumer.stop()
    return sum(ends.values())


async def partition_count(bootstrap: str, topic: str) -> int | None:
    """The number of partitions `topic` has on the broker, or None if it does not exist."""
    async with kafka_admin(bootstrap) as admin:
        described = await admin.describe_topics([topic])
    for entry in described:
        if entry["topic"] == topic and entry["error_code"] == 0:
            return len(entry["partitions"])
    return None


def referral_ids_over_partitions(per_partition: int, partitions: int) -> dict[int, list[str]]:
    """Referral ids that Kafka's default partitioner spreads evenly: `per_partition` on each partition."""
    from aiokafka.partitioner import murmur2

    spread: dict[int, list[str]] = {partition: [] for partition in range(partitions)}
    while any(len(ids) < per_partition for ids in spread.values()):
        candidate = f"ref-{uuid.uuid4().hex[:10]}"
        partition = (murmur2(candidate.encode()) & 0x7FFFFFFF) % partitions
        if len(spread[partition]) < per_partition:
            spread[partition].append(candidate)
    return spread


@pytest.fixture
async def mongo(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """A client on the real store, to read what the desk wrote; drops this test's database afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    try:
        yield client
    finally:
        await client.drop_database(f"{namespace}_enquiry")
        await client.close()


async def enquiry_document(mongo: AsyncMongoClient[dict[str, Any]], namespace: str,
                           enquiry_id: str) -> dict[str, Any] | None:
    """The enquiry's stored document, as the desk wrote it."""
    return await mongo[f"{namespace}_enquiry"]["enquiries"].find_one({"_id": enquiry_id})


async def true(value: bool) -> bool:
    """An awaitable truth value, for `eventually` probes over state already in memory."""
    return value

