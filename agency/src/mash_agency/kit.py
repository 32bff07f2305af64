"""The agency kit: subscribe to the agency's enquiry requests, ask its adapter, publish its answers.

An agency runs this from its own premises as a virtual member of the hub. Every copy joins the
consumer group `agency-<name>`, so running more copies shares the request topic's partitions. An agency
that is a member of several hubs on one cluster (a region, docs/federation.md) runs one kit for all of
them: it reads each hub's request topic in that hub's group and answers on that hub's response topic,
so an answer always goes back to the hub that asked, and the broker's ACLs decide which hubs it may read.
A request's offset is committed only after the answer is published (AckPolicy.NACK_ON_ERROR): if the
adapter or the publish fails, the request is delivered again rather than lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from mash_schemas import AgencyResponded, EnquiryRequested
from mash_schemas.evolution import UnsupportedSchemaVersion, read_event
from pydantic import ValidationError

from mash_agency.adapter import AgencyAdapter, load_adapter
from mash_agency.answer import build_response
from mash_agency.settings import AgencySettings

log = logging.getLogger("mash_agency")

Clock = Callable[[], datetime]
Pause = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    """The wall clock, in UTC; the kit's only reading of real time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class MessageOrigin:
    """Where a request came from, so a skipped message can be found again."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def describe_invalid(exc: ValidationError) -> str:
    """Field paths and error types of a validation failure, without the values (they may name people)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '<message>'}: {error['type']}"
        for error in exc.errors(include_input=False, include_url=False)
    )


class EnquiryResponder:
    """Reads one raw enquiry request, asks the adapter, and builds the agency response event.

    Returns None for a message it must skip (unreadable, or addressed to another agency). Errors
    from the adapter propagate, so the kit does not commit and the request is delivered again.
    """

    def __init__(
        self,
        agency: str,
        adapter: AgencyAdapter,
        *,
        now: Clock = utc_now,
        pause: Pause = asyncio.sleep,
        delay: tuple[float, float] = (0.0, 0.0),
        rng: random.Random | None = None,
    ) -> None:
        self.agency = agency
        self.adapter = adapter
        self.now = now
        self.pause = pause
        self.delay = delay
        self.rng = rng or random.Random()

    async def respond(self, raw: bytes, origin: MessageOrigin) -> AgencyResponded | None:
        """The response to the request in `raw`, or None when the message is skipped."""
        # A tolerant reader: fields a newer hub added are ignored and an older version is upcast, so the
        # hub can extend enquiry.request before every agency has upgraded its kit.
        try:
            request_event = read_event(raw, EnquiryRequested)
        except ValidationError as exc:
            # Agencies have no dead-letter topic of ours: log where it is, so it can be found, and move on.
            log.error("skipping unreadable enquiry request at %s: %s", origin, describe_invalid(exc))
            return None
        except UnsupportedSchemaVersion as exc:
            log.error("skipping enquiry request at %s: %s (upgrade the kit: pip install -U mash-schemas mash-agency)",
                      origin, exc)
            return None
        except ValueError as exc:  # not JSON, or not an object
            log.error("skipping unreadable enquiry request at %s: %s", origin, type(exc).__name__)
            return None
        request = request_event.payload
        if request.agency != self.agency:
            log.error(
                "skipping request %s at %s: addressed to %r, this kit answers for %r",
                request.request_id,
                origin,
                request.agency,
                self.agency,
            )
            return None
        await self._simulated_delay()
        answer = await self.adapter.search(request)
        response = build_response(request_event, answer, agency=self.agency, now=self.now())
        log.info(
            "answering request %s (reminder %d) for referral %s: %s, rating %s, %d item(s)",
            request.request_id,
            request.reminder_number,
            request.referral_id,
            answer.outcome,
            answer.rating.value if answer.rating else "none",
            len(answer.items),
        )
        return response

    async def _simulated_delay(self) -> None:
        low, high = self.delay
        if high > 0:
            await self.pause(self.rng.uniform(low, high))


def response_bytes(response: AgencyResponded) -> bytes:
    """The exact JSON the hub validates."""
    return response.model_dump_json().encode()


def build_broker(settings: AgencySettings) -> KafkaBroker:
    """A KafkaBroker for the hub's cluster: durable, idempotent producer; SASL/TLS when configured."""
    servers = [server.strip() for server in settings.bootstrap_servers.split(",") if server.strip()]
    return KafkaBroker(
        servers,
        acks="all",
        enable_idempotence=True,
        client_id=f"mash-agency-{settings.name}",
        security=settings.security(),
        # On a local stack the kit creates its request topic if missing; against ACLs a refusal is only
        # logged by faststream, and MASH_AGENCY_CREATE_TOPICS=false skips the attempt altogether.
        allow_auto_create_topics=settings.create_topics,
    )


@dataclass
class AgencyKit:
    """The wired kit: its broker (to run), its responder, and per hub it answers a publisher and a subscriber.

    `publisher` and `subscriber` are the first hub's (the only one's, for a kit serving one hub);
    `subscriber` is None for a silent agency (never_answer), which does not read its requests.
    """

    settings: AgencySettings
    broker: KafkaBroker
    responder: EnquiryResponder
    publisher: DefaultPublisher
    subscriber: DefaultSubscriber | None = None
    publishers: dict[str | None, DefaultPublisher] = field(default_factory=dict)  # by hub namespace
    subscribers: dict[str | None, DefaultSubscriber] = field(default_factory=dict)

    async def publish(self, response: AgencyResponded, namespace: str | None = None) -> None:
        """Publish `response` on the response topic of the hub with `namespace` (the first hub's when not given)."""
        # A namespace the kit does not answer is a KeyError, never a fallback: an answer goes only to the asker.
        publisher = self.publisher if namespace is None else self.publishers[namespace]
        await publisher.publish(
            response_bytes(response),
            key=response.payload.referral_id.encode(),
            headers={"content-type": "application/json"},
            correlation_id=str(response.event_id),
        )


def build_kit(
    settings: AgencySettings,
    adapter: AgencyAdapter | None = None,
    *,
    broker: KafkaBroker | None = None,
    now: Clock = utc_now,
    pause: Pause = asyncio.sleep,
    rng: random.Random | None = None,
) -> AgencyKit:
    """Wire the kit for `settings` (every hub it answers); the adapter defaults to the one named in settings."""
    the_adapter = adapter if adapter is not None else load_adapter(settings.adapter, settings.name)
    the_broker = broker if broker is not None else build_broker(settings)
    responder = EnquiryResponder(
        settings.name, the_adapter, now=now, pause=pause, delay=settings.response_delay, rng=rng
    )
    namespaces = settings.hub_namespaces()
    publishers = {
        namespace: the_broker.publisher(
            settings.response_topic_in(namespace),
            title=f"{settings.name} answers" + (f" to {namespace}" if namespace else ""),
            description="AgencyResponded events, keyed by referral id.",
        )
        for namespace in namespaces
    }
    kit = AgencyKit(settings=settings, broker=the_broker, responder=responder,
                    publisher=publishers[namespaces[0]], publishers=publishers)
    if settings.never_answer:
        # A silent agency for scenario 7: it does not even join its consumer group, so its requests
        # wait on the topic and a normal copy started later answers them all (as late answers).
        log.warning("agency %s is simulating a silent agency: requests will not be read", settings.name)
        return kit
    for namespace in namespaces:
        kit.subscribers[namespace] = _answer_requests(kit, namespace, pause)
    kit.subscriber = kit.subscribers[namespaces[0]]
    return kit


def _answer_requests(kit: AgencyKit, namespace: str | None, pause: Pause) -> DefaultSubscriber:
    """Subscribe to one hub's requests, in that hub's group, answering on that hub's response topic."""
    settings = kit.settings
    request_topic = settings.request_topic_in(namespace)
    subscriber = kit.broker.subscriber(
        # Copies scale only up to the partition count: a topic the kit creates gets several partitions.
        Topic(
            request_topic,
            num_partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication,
        ),
        group_id=settings.consumer_group_in(namespace),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=settings.workers,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        title=f"{settings.name} enquiry requests" + (f" from {namespace}" if namespace else ""),
    )
    # Not a batch subscriber, so always a DefaultSubscriber (or its concurrent form) at run time.
    assert isinstance(subscriber, DefaultSubscriber)

    @subscriber
    async def on_enquiry_request(message: KafkaMessage) -> None:
        record = message.raw_message
        origin = MessageOrigin(
            topic=str(getattr(record, "topic", request_topic)),
            partition=int(getattr(record, "partition", -1)),
            offset=int(getattr(record, "offset", -1)),
        )
        body = message.body if isinstance(message.body, bytes) else bytes(message.body)
        try:
            response = await kit.responder.respond(body, origin)
            if response is not None:
                # Back to the hub that asked: the response topic of the namespace the request came from.
                await kit.publish(response, namespace)
        except Exception as exc:
            # Not committed: the request comes straight back. Wait first, so that a records system or
            # broker that is down is retried at a steady pace rather than in a tight loop.
            log.warning(
                "could not answer the request at %s (%s); retrying in %.1f s",
                origin,
                type(exc).__name__,
                settings.retry_backoff,
            )
            await pause(settings.retry_backoff)
            raise

    return subscriber
