"""Insight on the real broker and store: it joins by subscribing, its figures equal an independent computation
from the raw events, dropping its database and replaying from the earliest offsets (a new generation of
consumer groups) gives the same figures, redelivered events change nothing, its database holds no free
text and no sealed item, and /metrics counts what it consumed and what it set aside."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from mash_insight.app import create_app
from mash_insight.domain.facts import FactKind
from mash_insight.settings import InsightSettings
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET, HubSettings
from mash_runtime.timescales import Timescales, default_timescales
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.topics import DEAD_LETTER, REFERRAL_RECEIVED
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from tests.support.infrastructure import Infrastructure
from tests.support.insight_events import MARKER, SEALED_MARKER, Stream, generate_month
from tests.support.insight_oracle import expected_figures, expected_thresholds, served_figures
from tests.support.topics import produce_raw
from tests.support.waiting import eventually

FIRST, DAYS = date(2026, 3, 2), 12
LAST = date(2026, 3, 13)
ANALYST = {"Authorization": "Bearer " + issue_token(DEVELOPMENT_JWT_SECRET, "analyst-1", [Role.ANALYST])}


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


async def publish(settings: HubSettings, events: list[tuple[str, Any]]) -> None:
    """Put events on their topics as the producers would (keyed by referral, acks=all)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for topic, event in events:
            await producer.send(settings.topic(topic), event.model_dump_json().encode(),
                                key=event.correlation_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def running_insight(settings: InsightSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://insight.test", timeout=30.0) as http:
            yield http


async def figures(http: httpx.AsyncClient) -> dict[str, Any]:
    """Every report insight serves for the period, as JSON."""
    period = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
    got: dict[str, Any] = {}
    for name, path, extra in (("performance", "/figures/performance", {"by": "day"}),
                              ("agencies", "/figures/agencies", {}), ("areas", "/figures/areas", {"by": "week"}),
                              ("consultations", "/figures/consultations", {}),
                              ("thresholds", "/figures/thresholds", {"by": "week"})):
        response = await http.get(path, params={**period, **extra}, headers=ANALYST)
        assert response.status_code == 200, response.text
        got[name] = response.json()
    rising = await http.get("/figures/rising-concern", params={"as_of": LAST.isoformat()}, headers=ANALYST)
    export = await http.get("/export/commissioners.csv", params=period, headers=ANALYST)
    got["rising"], got["export"] = rising.json()["families"], export.text
    return got


async def all_facts_kept(http: httpx.AsyncClient, expected: dict[str, int]) -> None:
    kept: dict[str, int] = {}

    async def counted() -> bool:
        kept.clear()
        kept.update((await http.get("/facts/counts", headers=ANALYST)).json())
        return kept == expected

    try:
        await eventually(counted, timeout=90, interval=0.3, what=f"insight keeps {expected}")
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; it keeps {kept}") from None


def kinds(stream: Stream) -> dict[str, int]:
    """How many facts of each kind the stream gives: one per event, none of a kind it has no events for."""
    names = {"mash.referral.received": "contacts", "mash.decision.made": "decisions",
             "mash.enquiry.opened": "enquiries", "mash.enquiry.completed": "enquiry_outcomes",
             "mash.enquiry.addendum": "late_answers", "mash.case.timescale": "timescale_alerts",
             "mash.consultation.recorded": "consultations", "mash.police.notification": "police_notifications"}
    counts = dict.fromkeys((kind.value for kind in FactKind), 0)
    for topic, _ in stream.events:
        counts[names[topic]] += 1
    return counts


async def test_figures_from_the_topics_equal_an_independent_computation_and_survive_a_rebuild_and_redelivery(
    infrastructure: Infrastructure, namespace: str,
) -> None:
    stream = generate_month(FIRST, days=DAYS, seed=11)
    settings = InsightSettings(environment="test", kafka_bootstrap=infrastructure.kafka_bootstrap,
                               mongo_url=infrastructure.mongo_url, topic_namespace=namespace,
                               mongo_database=f"{namespace}_insight")
    await ensure_topics(settings, {settings.topic(t) for t, _ in stream.events} | {settings.topic(DEAD_LETTER)})
    await publish(settings, stream.events)
    raw = {topic: stream.on(topic) for topic in {t for t, _ in stream.events}}
    expected = expected_figures(raw, FIRST, LAST, Timescales(default_timescales()))
    referral_topic = settings.topic(REFERRAL_RECEIVED)

    async with running_insight(settings) as http:
        await all_facts_kept(http, kinds(stream))
        first = await figures(http)
        scraped = (await http.get("/metrics")).text
        assert metric(scraped, "mash_events_consumed_total", service="insight", topic=referral_topic) == len(
            raw["mash.referral.received"])
        assert metric(scraped, "mash_handler_seconds_count", service="insight", topic=referral_topic) == len(
            raw["mash.referral.received"])
        assert metric(scraped, "mash_consumer_lag", service="insight", topic=referral_topic) == 0

        # A poison message is set aside and counted; the partition keeps flowing.
        before = metric(scraped, "mash_events_dead_lettered_total", service="insight", topic=referral_topic)
        await produce_raw(settings.kafka_bootstrap, referral_topic, b"{not json", key=b"MASH-POISON")

        async def dead_lettered() -> bool:
            text = (await http.get("/metrics")).text
            return metric(text, "mash_events_dead_lettered_total", service="insight", topic=referral_topic) == before + 1

        await eventually(dead_lettered, timeout=30, what="the poison message dead-lettered and counted")

        # Every event delivered again changes nothing (each fact is kept once, by its identity).
        await publish(settings, stream.events[:200])

        async def redelivered() -> bool:
            text = (await http.get("/metrics")).text
            return metric(text, "mash_events_consumed_total", service="insight") >= len(stream.events) + 201

        await eventually(redelivered, timeout=60, interval=0.3, what="the redelivered events consumed")
        await all_facts_kept(http, kinds(stream))
        assert await figures(http) == first

    assert served_figures(first["performance"], first["agencies"], first["areas"], first["consultations"]) == expected
    assert first["rising"], "the generated fortnight flags some families"
    # Threshold consistency through the real store: as published (counts under 5 as "<5"), as the oracle counts.
    as_of = datetime.fromisoformat(first["thresholds"]["as_of"])
    counted = expected_thresholds(raw, FIRST, LAST, "week", Timescales(default_timescales()), as_of)
    shown = {(row["breakdown"], row["category"]): (row["decided"], row["screened"], row["all_agree"])
             for row in first["thresholds"]["agreement"]}
    assert shown == {(breakdown, category): tuple("<5" if c[k] < 5 else str(c[k])
                                                  for k in ("decided", "screened", "all_agree"))
                     for breakdown, rows in counted["agreement"].items() for category, c in rows.items()}
    assert [(f["label"], f["step_up"], f["step_down"]) for f in first["thresholds"]["flows"]] == [
        (label, *("<5" if row[k] < 5 else str(row[k]) for k in ("step_up", "step_down")))
        for label, row in counted["flows"].items()]

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    try:
        database = mongo[settings.mongo_database]
        held = [repr(doc) for name in await database.list_collection_names() async for doc in database[name].find({})]
        assert held and not [doc for doc in held if MARKER in doc or SEALED_MARKER in doc]
        await mongo.drop_database(settings.mongo_database)
    finally:
        await mongo.close()

    # Rebuilt from the topics: a new generation of groups reads every topic from its earliest offset.
    async with running_insight(settings.model_copy(update={"generation": "2"})) as http:
        await all_facts_kept(http, kinds(stream))
        assert await figures(http) == first
