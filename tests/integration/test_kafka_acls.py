"""The broker's ACLs, on the secured native stack: each principal does only what infra/kafka/acls.txt gives it.

Every refusal here is the broker's own (SASL/SCRAM-SHA-512 authentication, StandardAuthorizer with
allow.everyone.if.no.acl.found=false), checked beside a positive control of the same principal doing
what it may, so a test cannot pass because nothing works. The ACLs are the ones the hub's processes get
on a run's namespace (demo.kafka_access.KafkaAccess.grant, from the same table as infra/stack.sh).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from mash_agency import AgencyAnswer
from mash_agency.kit import build_kit
from mash_agency.settings import AgencySettings
from mash_schemas import AgencyResponded, AgencyResponse, EnquiryRequest, EnquiryRequested
from mash_schemas.agency import agency_response_event_id
from mash_schemas.topics import (
    DEAD_LETTER,
    DECISION_MADE,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    REFERRAL_RECEIVED,
    agency_response_topic,
    enquiry_request_topic,
)
from pymongo import AsyncMongoClient

from demo.hub import Hub, HubConfig
from demo.kafka_access import ADMIN, KafkaAccess
from tests.integration.enquiry.conftest import an_enquiry, open_enquiry
from tests.support.infrastructure import Infrastructure
from tests.support.kafka_security import skip_on_a_developers_insecure_broker
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

ACCESS = KafkaAccess.from_environment()
if ACCESS is None:
    skip_on_a_developers_insecure_broker()


@pytest.fixture
def access() -> KafkaAccess:
    """The secured stack's principals; the tests fail, with what to do, on a broker without authentication."""
    if ACCESS is None:
        pytest.fail("no Kafka credentials: the ACL tests need the secured broker of infra/stack.sh (its "
                    "<cache>/run/kafka-credentials.env, or MASH_KAFKA_CREDENTIALS). A data directory formatted "
                    "before security runs without it: `infra/stack.sh down --purge` and `up`.", pytrace=False)
    return ACCESS


def name(namespace: str, topic: str) -> str:
    """A topic or group as deployed in this test's namespace."""
    return f"{namespace}.{topic}"


@pytest.fixture
async def granted(infrastructure: Infrastructure, namespace: str, access: KafkaAccess) -> str:
    """This test's namespace with the hub's ACLs on it and the topics the tests use created (as the operator)."""
    await access.grant(infrastructure.kafka_bootstrap, namespace)
    topics = [enquiry_request_topic("police"), enquiry_request_topic("health"), agency_response_topic("police"),
              agency_response_topic("health"), ENQUIRY_COMPLETED, ENQUIRY_OPENED, REFERRAL_RECEIVED, DECISION_MADE,
              DEAD_LETTER]
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap, **access.client_options(ADMIN))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name(namespace, t), 1, 1) for t in topics])
    finally:
        await admin.close()
    return namespace


@contextlib.asynccontextmanager
async def producer(bootstrap: str, **options: Any) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                              request_timeout_ms=15000, **options)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def read_refusal(bootstrap: str, topic: str, group: str, options: dict[str, Any]) -> KafkaError | None:
    """What the broker says when this principal reads `topic` in `group` (None: it read, or had nothing)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                **options)
    try:
        await consumer.start()
        for _ in range(5):
            if await consumer.getmany(timeout_ms=1000):
                return None
    except KafkaError as exc:
        return exc
    finally:
        await consumer.stop()
    return None


async def test_a_wrong_password_and_no_password_are_refused(infrastructure: Infrastructure, access: KafkaAccess) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    wrong = {**access.client_options("agency-police"), "sasl_plain_password": "not-the-password"}
    with pytest.raises(KafkaConnectionError):
        async with producer(bootstrap, **wrong):
            pass
    with pytest.raises(KafkaConnectionError):
        async with producer(bootstrap, security_protocol="PLAINTEXT"):
            pass
    async with producer(bootstrap, **access.client_options("agency-police")):
        pass  # the right password is let in


async def test_an_agency_reads_only_its_own_request_topic_in_its_own_group(
    infrastructure: Infrastructure, granted: str, access: KafkaAccess,
) -> None:
    bootstrap, police = infrastructure.kafka_bootstrap, access.client_options("agency-police")
    async with producer(bootstrap, **access.client_options(ADMIN)) as hub:
        for agency in ("police", "health"):
            await hub.send_and_wait(name(granted, enquiry_request_topic(agency)), b"{}", key=b"r-1")

    assert await read_refusal(bootstrap, name(granted, enquiry_request_topic("police")),
                              name(granted, "agency-police"), police) is None
    other_topic = await read_refusal(bootstrap, name(granted, enquiry_request_topic("health")),
                                     name(granted, "agency-police"), police)
    assert isinstance(other_topic, TopicAuthorizationFailedError), other_topic
    other_group = await read_refusal(bootstrap, name(granted, enquiry_request_topic("police")),
                                     name(granted, "agency-health"), police)
    assert isinstance(other_group, GroupAuthorizationFailedError), other_group


async def test_an_agency_writes_only_its_own_response_topic(
    infrastructure: Infrastructure, granted: str, access: KafkaAccess,
) -> None:
    async with producer(infrastructure.kafka_bootstrap, **access.client_options("agency-police")) as police:
        await police.send_and_wait(name(granted, agency_response_topic("police")), b"{}", key=b"r-1")
        for topic in (agency_response_topic("health"), enquiry_request_topic("health"), ENQUIRY_COMPLETED,
                      REFERRAL_RECEIVED, DECISION_MADE, DEAD_LETTER):
            with pytest.raises(TopicAuthorizationFailedError):
                await police.send_and_wait(name(granted, topic), b"{}", key=b"r-1")


async def test_intake_cannot_read_enquiry_completed(
    infrastructure: Infrastructure, granted: str, access: KafkaAccess,
) -> None:
    bootstrap, intake = infrastructure.kafka_bootstrap, access.client_options("intake")
    async with producer(bootstrap, **access.client_options(ADMIN)) as hub:
        await hub.send_and_wait(name(granted, DECISION_MADE), b"{}", key=b"r-1")
        await hub.send_and_wait(name(granted, ENQUIRY_COMPLETED), b"{}", key=b"r-1")
    group = name(granted, "intake.contact-outcome")
    assert await read_refusal(bootstrap, name(granted, DECISION_MADE), group, intake) is None
    refused = await read_refusal(bootstrap, name(granted, ENQUIRY_COMPLETED), group, intake)
    assert isinstance(refused, TopicAuthorizationFailedError), refused


async def test_an_answer_on_one_agencys_topic_naming_another_is_dead_lettered(
    infrastructure: Infrastructure, granted: str, access: KafkaAccess, artefacts: Path,
) -> None:
    """Identity comes from the topic the broker authorised the writer for, never from the body."""
    bootstrap = infrastructure.kafka_bootstrap
    hub = Hub(HubConfig(kafka_bootstrap=bootstrap, mongo_url=infrastructure.mongo_url, namespace=granted,
                        workdir=artefacts, service_env={"enquiry": {"MASH_ENQUIRY_SWEEP_SECONDS": "0.3"}}))
    requests = {agency: name(granted, enquiry_request_topic(agency)) for agency in ("police", "health")}
    police_topic, dead_letters = name(granted, agency_response_topic("police")), name(granted, DEAD_LETTER)
    recorder = TopicRecorder(bootstrap, [*requests.values(), dead_letters])
    enquiry = an_enquiry(f"ref-acl-{uuid.uuid4().hex[:6]}", ["police", "health"], due_in=300)
    await hub.start_service("enquiry")  # as the `enquiry` principal, with the namespace's ACLs
    try:
        async with recorder.running():
            await open_enquiry(bootstrap, granted, enquiry)
            await eventually(lambda: _true(all(recorder.on(t) for t in requests.values())), timeout=60,
                             what="a request on each agency's topic")
            health_request = EnquiryRequested.model_validate_json(recorder.on(requests["health"])[0].value).payload
            police_request = EnquiryRequested.model_validate_json(recorder.on(requests["police"])[0].value).payload
            async with producer(bootstrap, **access.client_options("agency-police")) as police:
                # Police, on its own topic (the broker allows it), answers in health's name ...
                forged = _nothing_known(health_request, "health")
                await police.send_and_wait(police_topic, forged.model_dump_json().encode(), key=b"k")
                # ... and then in its own name.
                honest = _nothing_known(police_request, "police")
                await police.send_and_wait(police_topic, honest.model_dump_json().encode(), key=b"k")

            def set_aside() -> list[dict[str, Any]]:
                records = [json.loads(r.value)["payload"] for r in recorder.on(dead_letters)]
                return [r for r in records if r["origin_topic"] == police_topic]

            [letter] = await eventually(lambda: _true(set_aside()), timeout=60, what="the forged answer dead-lettered")
            assert letter["error_type"] == "rejected"
            assert "agency 'health' arrived on the topic of agency 'police'" in letter["reason"]

            async def recorded() -> dict[str, Any] | None:
                mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
                try:
                    document = await mongo[hub.database("enquiry")]["enquiries"].find_one({"_id": enquiry.enquiry_id})
                finally:
                    await mongo.close()
                return document if document and document.get("responses") else None

            document = await eventually(recorded, timeout=60, what="police's own answer recorded")
            assert sorted(document["responses"]) == ["police"]  # health never answered
    finally:
        hub.stop()


async def test_the_kit_answers_over_tls_trusting_the_stacks_ca(
    infrastructure: Infrastructure, granted: str, access: KafkaAccess,
) -> None:
    assert access.tls_bootstrap and access.ca_file, "the stack records its TLS listener beside the passwords"
    police = access.client_options("agency-police")
    settings = AgencySettings(
        name="police", bootstrap_servers=access.tls_bootstrap, namespace=granted, use_tls=True,
        ca_file=access.ca_file, username=police["sasl_plain_username"], password=police["sasl_plain_password"],
        create_topics=False, retry_backoff=0.5,
    )

    class NothingKnown:
        async def search(self, request: EnquiryRequest) -> AgencyAnswer:
            return AgencyAnswer.nothing_known("Police MASH desk")

    enquiry = an_enquiry(f"ref-tls-{uuid.uuid4().hex[:6]}", ["police"], due_in=300)
    request = EnquiryRequest(
        request_id=f"req-{uuid.uuid4().hex[:8]}", enquiry_id=enquiry.enquiry_id, referral_id=enquiry.referral_id,
        agency="police", subjects=enquiry.subjects, due_at=enquiry.due_at, lawful_basis=enquiry.lawful_basis,
        consent_position="Consent not sought.",
    )
    event = EnquiryRequested.build(request, correlation_id=request.referral_id, producer="enquiry")
    responses = name(granted, agency_response_topic("police"))
    recorder = TopicRecorder(infrastructure.kafka_bootstrap, [responses])
    kit = build_kit(settings, NothingKnown())
    async with recorder.running():
        await kit.broker.start()
        try:
            async with producer(infrastructure.kafka_bootstrap, **access.client_options(ADMIN)) as hub:
                await hub.send_and_wait(name(granted, enquiry_request_topic("police")),
                                        event.model_dump_json().encode(), key=request.referral_id.encode())
            await eventually(lambda: _true(recorder.on(responses)), timeout=60, what="the kit's answer over TLS")
        finally:
            await kit.broker.stop()
    answer = AgencyResponded.model_validate_json(recorder.on(responses)[0].value)
    assert (answer.payload.request_id, answer.payload.outcome) == (request.request_id, "nothing_known")

    # Without the stack's CA the broker's certificate is not trusted: no connection at all.
    untrusting = {**police, "security_protocol": "SASL_SSL", "ssl_context": ssl.create_default_context()}
    with pytest.raises(KafkaConnectionError):
        async with producer(access.tls_bootstrap, **untrusting):
            pass


def _nothing_known(request: EnquiryRequest, agency: str) -> AgencyResponded:
    response = AgencyResponse(
        request_id=request.request_id, enquiry_id=request.enquiry_id, referral_id=request.referral_id,
        agency=agency, responded_by="MASH desk", responded_at=datetime.now(UTC), outcome="nothing_known",
    )
    return AgencyResponded.build(response, correlation_id=request.referral_id, producer=f"agency:{agency}",
                                 event_id=agency_response_event_id(request.request_id, agency))


async def _true(value: Any) -> Any:
    return value
