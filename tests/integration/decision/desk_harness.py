"""The decision service in-process (or as a process) on the real broker and store, and what the tests feed it.

Events are built with the contract (mash_schemas) and put on the real topics, exactly as intake and the
research desk would publish them; what decision publishes is read back from the topics themselves.
Synchronisation is on conditions only: a consumer group's committed offset (the service has applied a
message), an empty outbox (the service has nothing more to publish) and a topic's end offsets (everything
published has been read).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from mash_decision.app import create_app
from mash_decision.settings import DecisionSettings
from mash_intake.domain.contact_form import ContactSubmission, build_referral
from mash_runtime.auth import Role, issue_token
from mash_runtime.transit import DEVELOPMENT_TRANSIT_PUBLIC_KEY, TransitSealer
from mash_schemas import (
    AgencyFindings,
    AllocatedWorker,
    BragRating,
    EnquiryOutcome,
    InformationItem,
    Referral,
    ReleaseCondition,
    SealedItem,
    Sensitivity,
    SubjectMatch,
    SuggestedRating,
)
from mash_schemas.enquiry import EnquiryCompleted
from mash_schemas.envelope import EventEnvelope
from mash_schemas.referral import ReferralReceived
from pymongo import AsyncMongoClient

from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

CONTACTS = Path(__file__).resolve().parents[3] / "demo" / "contacts"
REFERRALS_GROUP = "decision.referrals"
ENQUIRY_OUTCOMES_GROUP = "decision.enquiry-outcomes"


# --- what intake and the research desk publish ------------------------------------------------------


def referral(
    contact_file: str,
    *,
    rating: BragRating,
    received_at: datetime | None = None,
    allocated_worker: AllocatedWorker | None = None,
    referral_id: str | None = None,
) -> Referral:
    """A referral as intake builds it from one of the demo's contact forms (`build_referral`)."""
    submission = ContactSubmission.model_validate_json((CONTACTS / contact_file).read_text(encoding="utf-8"))
    matches = []
    if allocated_worker is not None:
        matches.append(SubjectMatch(
            subject_id=submission.subjects[0].subject_id, person_ref="LA-20417", confidence=0.98,
            reasons=["same name, date of birth and NHS number"], allocated_worker=allocated_worker))
    return build_referral(
        submission,
        referral_id=referral_id or f"REF-{uuid.uuid4().hex[:12].upper()}",
        received_at=received_at or datetime.now(UTC),
        suggested_rating=SuggestedRating(rating=rating, reasons=[f"intake suggested {rating.value}"]),
        matches=matches,
        linked_referrals=[],
    )


def referral_received(referral: Referral) -> ReferralReceived:
    """The event intake publishes for `referral`."""
    return ReferralReceived.build(referral, correlation_id=referral.referral_id, producer="intake")


def shareable(item_id: str, about: str, summary: str) -> InformationItem:
    """A non-sensitive item (may go in a hand-off)."""
    return InformationItem(item_id=item_id, about=about, summary=summary, sensitivity=Sensitivity.NON_SENSITIVE)


def sensitive(item_id: str, about: str, summary: str) -> InformationItem:
    """A sensitive item whose agency has not permitted release."""
    return InformationItem(
        item_id=item_id, about=about, summary=summary, sensitivity=Sensitivity.SENSITIVE,
        release=ReleaseCondition(permitted=False, request_route="Ask the police public protection unit, ext 4471"))


def enquiry_completed(
    referral_id: str,
    enquiry_id: str,
    findings: list[AgencyFindings],
    sealed: list[SealedItem],
    not_answered: list[str],
) -> EnquiryCompleted:
    """The research desk's collated outcome, as the enquiry service publishes it: sensitive items encrypted
    for the decision service's (development) key."""
    sealer = TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY])
    outcome = EnquiryOutcome(
        enquiry_id=enquiry_id, referral_id=referral_id, completed_at=datetime.now(UTC),
        completion="due_time_passed" if not_answered else "all_answered",
        findings=findings, encrypted=[sealer.seal(referral_id, s.agency, s.item) for s in sealed],
        not_answered=not_answered)
    return EnquiryCompleted.build(outcome, correlation_id=referral_id, producer="enquiry")


def write_timescales(path: Path, document: dict[str, Any]) -> Path:
    """A hub timescales file (the format of mash_decision/config/timescales.yaml)."""
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


# --- the broker, read and written directly ------------------------------------------------------------


async def publish(bootstrap: str, topic: str, event: EventEnvelope[Any]) -> tuple[int, int]:
    """Put `event` on `topic` keyed by its referral, durably; returns (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        metadata = await producer.send_and_wait(
            topic, event.model_dump_json().encode(), key=event.correlation_id.encode(),
            headers=[("content-type", b"application/json")])
    finally:
        await producer.stop()
    return metadata.partition, metadata.offset


async def topic_events(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every event on `topic` right now, from the beginning to the end offsets (parsed JSON, in order)."""
    partitions = await _partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        events: list[dict[str, Any]] = []
        for tp in assigned:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                events += [json.loads(record.value) for record in batch.get(tp, [])]
        return events
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["error_code"] == 0, f"{topic}: Kafka error {described['error_code']}"
    return sorted(p["partition"] for p in described["partitions"])


async def consumed(bootstrap: str, group: str, topic: str, partition: int, offset: int) -> None:
    """Wait until consumer group `group` has committed past `offset`: the service has applied that message."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async def committed() -> bool:
            offsets = await admin.list_consumer_group_offsets(group, partitions=[TopicPartition(topic, partition)])
            meta = offsets.get(TopicPartition(topic, partition))
            return meta is not None and meta.offset > offset

        await eventually(committed, timeout=30, interval=0.1, what=f"{group} past {topic}[{partition}]@{offset}")
    finally:
        await admin.close()


def of_referral(events: list[dict[str, Any]], referral_id: str) -> list[dict[str, Any]]:
    """The events about one referral."""
    return [event for event in events if event["correlation_id"] == referral_id]


# --- the service in-process -----------------------------------------------------------------------------


class Desk:
    """A running decision service (in-process ASGI app, or a process at `base_url`) and its staff."""

    def __init__(self, settings: DecisionSettings, http: httpx.AsyncClient,
                 mongo: AsyncMongoClient[dict[str, Any]]) -> None:
        self.settings = settings
        self.http = http
        self.case_files = mongo[settings.mongo_database]["case_files"]
        secret = settings.jwt_secret.get_secret_value()
        self.manager = _bearer(secret, "Mo Patel (MASH manager)", Role.MANAGER)
        self.screener = _bearer(secret, "Jo Reed (screener)", Role.SCREENER)
        self.analyst = _bearer(secret, "Ali Shah (analyst)", Role.ANALYST)

    @property
    def bootstrap(self) -> str:
        """The broker's address."""
        return self.settings.kafka_bootstrap

    def topic(self, base: str) -> str:
        """The deployed name of a contract topic in this test's namespace."""
        return self.settings.topic(base)

    async def publish(self, base_topic: str, event: EventEnvelope[Any]) -> tuple[int, int]:
        """Put `event` on the namespaced `base_topic`."""
        return await publish(self.bootstrap, self.topic(base_topic), event)

    async def applied(self, group: str, base_topic: str, where: tuple[int, int]) -> None:
        """Wait until the service's consumer group `group` has applied the message at `where`."""
        await consumed(self.bootstrap, self.settings.group(group), self.topic(base_topic), *where)

    async def events(self, base_topic: str, referral_id: str) -> list[dict[str, Any]]:
        """What the service has published on `base_topic` about one referral, once its outbox is empty."""
        await self.outbox_empty(referral_id)
        return of_referral(await topic_events(self.bootstrap, self.topic(base_topic)), referral_id)

    async def outbox_empty(self, referral_id: str) -> None:
        """Wait until the case file has no event waiting to be published."""
        async def empty() -> bool:
            doc = await self.case_files.find_one({"_id": referral_id}, {"_outbox": 1})
            return doc is not None and doc.get("_outbox") == []

        await eventually(empty, timeout=30, what=f"{referral_id}'s outbox published")

    async def case(self, referral_id: str, as_: dict[str, str] | None = None,
                   reason: str = "screening and decision") -> httpx.Response:
        """GET /cases/{id} (audited)."""
        return await self.http.get(f"/cases/{referral_id}", params={"reason": reason}, headers=as_ or self.manager)

    async def case_in(self, referral_id: str, state: str) -> dict[str, Any]:
        """Wait until the case file exists and is in `state`; returns the manager's view."""
        async def probe() -> dict[str, Any] | None:
            response = await self.case(referral_id, reason="waiting for the case to arrive")
            if response.status_code != 200:
                return None
            body: dict[str, Any] = response.json()
            return body if body["case_file"]["state"] == state else None

        return await eventually(probe, timeout=30, interval=0.2, what=f"{referral_id} {state}")

    async def step(self, referral_id: str, step: str, body: dict[str, Any],
                   as_: dict[str, str] | None = None) -> httpx.Response:
        """POST /cases/{id}/{step}: screening, routing, enquiry or decision."""
        return await self.http.post(f"/cases/{referral_id}/{step}", json=body, headers=as_ or self.manager)

    async def queue(self, as_: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """GET /queue."""
        response = await self.http.get("/queue", headers=as_ or self.screener)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        return entries

    async def audit(self, referral_id: str) -> list[dict[str, Any]]:
        """GET /cases/{id}/audit as the manager."""
        response = await self.http.get(f"/cases/{referral_id}/audit", headers=self.manager)
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()
        return records


def _bearer(secret: str, subject: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, subject, [role])}"}


def desk_settings(infrastructure: Infrastructure, namespace: str, **overrides: Any) -> DecisionSettings:
    """The decision service's settings for this test: real servers, its own namespace and database."""
    values: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap": infrastructure.kafka_bootstrap,
        "mongo_url": infrastructure.mongo_url,
        "topic_namespace": namespace,
        "mongo_database": f"{namespace}_decision",
        "relay_poll_seconds": 0.2,
        **overrides,
    }
    return DecisionSettings(**values)


@contextlib.asynccontextmanager
async def running_desk(settings: DecisionSettings) -> AsyncIterator[Desk]:
    """The decision app in this process: its lifespan runs the consumers, the relay and the clock."""
    app = create_app(settings)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://decision", timeout=30) as http:
                yield Desk(settings, http, mongo)
    finally:
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()


@contextlib.asynccontextmanager
async def desk_over_http(settings: DecisionSettings, base_url: str) -> AsyncIterator[Desk]:
    """A Desk speaking to a decision process at `base_url` (the process is started by the test)."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield Desk(settings, http, mongo)
    finally:
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()
