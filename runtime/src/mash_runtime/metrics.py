"""Operations metrics in Prometheus' format, on every service's `GET /metrics` (prometheus-client).

What operations watch before anyone phones them: events consumed, produced and dead-lettered per topic,
how long handlers take, how far each consumer group is behind on each partition, the outbox backlog and
the age of its oldest entry, and (from the desk) how many open cases are past their timescale by rating.
Deliveries are notify's `notification.sent` / `notification.failed` events produced (label event_type).

Metrics are process-wide (the default registry) and labelled with the service's name, so several
services in one test process stay apart. They carry ids of topics and groups only, never case content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

CONSUMED = Counter(
    "mash_events_consumed", "Records a consumer finished with (applied, skipped as a repeat, or set aside).",
    ["service", "group", "topic"],
)
DEAD_LETTERED = Counter(
    "mash_events_dead_lettered", "Records set aside on the dead-letter topic, by origin topic and reason.",
    ["service", "topic", "error_type"],
)
PRODUCED = Counter(
    "mash_events_produced", "Events the outbox relay published, by topic and event type.",
    ["service", "topic", "event_type"],
)
HANDLER_SECONDS = Histogram(
    "mash_handler_seconds", "Time from taking a record to finishing with it (validation, handler, store).",
    ["service", "group", "topic"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BATCH_RECORDS = Histogram(
    "mash_consumer_batch_records", "Records a batch subscription took at once (MASH_CONSUMER_BATCH above 1).",
    ["service", "group"], buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
CONSUMER_LAG = Gauge(
    "mash_consumer_lag", "Records on the partition after the one just finished (high water mark - offset - 1).",
    ["service", "group", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge(
    "mash_outbox_backlog", "Outbox entries found waiting at the relay's last full scan and not yet published.",
    ["service"],
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "mash_outbox_oldest_pending_seconds", "Age of the oldest outbox entry waiting at the relay's last full scan.",
    ["service"],
)
CASES_IN_BREACH = Gauge(
    "mash_cases_in_breach", "Open cases past their decision timescale at the desk clock's last check, by rating.",
    ["service", "rating"],
)
RATINGS = ("red", "amber", "green", "blue")


def consumed(service: str, group: str, topic: str, seconds: float) -> None:
    """A consumer finished with a record after `seconds`."""
    CONSUMED.labels(service, group, topic).inc()
    HANDLER_SECONDS.labels(service, group, topic).observe(seconds)


def batch_taken(service: str, group: str, records: int) -> None:
    """A batch subscription took `records` records at once."""
    BATCH_RECORDS.labels(service, group).observe(records)


def consumer_lag(service: str, group: str, consumer: Any, topic: str, partition: int, offset: int) -> None:
    """Record how far `group` is behind on the partition, when the consumer knows its high water mark."""
    highwater = getattr(consumer, "highwater", None)
    if highwater is None:
        return  # an in-memory test consumer
    from aiokafka import TopicPartition

    mark = highwater(TopicPartition(topic, partition))
    if isinstance(mark, int):
        CONSUMER_LAG.labels(service, group, topic, str(partition)).set(max(0, mark - offset - 1))


def dead_lettered(service: str, topic: str, error_type: str) -> None:
    """A record from `topic` was set aside."""
    DEAD_LETTERED.labels(service, topic, error_type).inc()


def produced(service: str, topic: str, event_type: str) -> None:
    """The relay published an event."""
    PRODUCED.labels(service, topic, event_type).inc()


def outbox_pending(service: str, entries: Iterable[Mapping[str, Any]]) -> None:
    """The outbox entries (as stored) waiting right now: how many, and the oldest one's age."""
    created = [datetime.fromisoformat(str(e["created_at"])) for e in entries if e.get("created_at")]
    OUTBOX_BACKLOG.labels(service).set(len(created))
    oldest = min(created, default=None)
    OUTBOX_OLDEST_SECONDS.labels(service).set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0)


def cases_in_breach(service: str, by_rating: Mapping[str, int]) -> None:
    """Open cases past their timescale, by rating (every rating set, so a cleared breach reads 0)."""
    for rating in RATINGS:
        CASES_IN_BREACH.labels(service, rating).set(by_rating.get(rating, 0))


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus scrapes them, and their content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
