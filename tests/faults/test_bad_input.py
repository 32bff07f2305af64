"""Bad input, bounded: every malformed kind of record on every topic the services consume, and generated
requests against every service's published OpenAPI. The four services run as processes on the real stack.

Poison: each record kind that issue 14 found getting stuck or slipping through (a value near the broker's
limit, an empty value, a null value, bytes that are not JSON, JSON that is not an object, an event with no
`event_type`, schema versions 2 and 99, a foreign event type) goes onto every consumed topic. Every
consumer group must move past all of it (its committed offset reaches the end of every partition, which
is what "the partition flows on" means) and set each record aside on the dead-letter topic, with its
reason, its origin and never more than a bounded prefix of its bytes.

OpenAPI: schemathesis generates requests from each service's /openapi.json, signed in with every role, a
bounded number per operation; no answer may be a 5xx. For POST /contacts, the public endpoint, the
published constraints must be the ones the server checks: every schema-valid contact is accepted, except
for the two rules JSON Schema cannot state (subject ids unique within a contact; no special-use email
domain such as .test) and a reused Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from mash_enquiry.config import load_agencies
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET, HubSettings
from mash_schemas.topics import (
    DEAD_LETTER,
    DECISION_MADE,
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    POLICE_NOTIFICATION,
    REFERRAL_AMENDED,
    REFERRAL_RECEIVED,
    agency_response_topic,
)
from schemathesis import GenerationMode

from demo.hub import Hub, HubConfig
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder, produce_raw
from tests.support.waiting import eventually

SERVICES = ("intake", "decision", "enquiry", "notify")
READY_TIMEOUT = 240.0
EXAMPLES_PER_OPERATION = 12
CONTACT_EXAMPLES = 40
# A guard against a hang, not a time limit: `make test` runs the fault suite beside the other real-stack tests, and
# on a loaded two-core machine the generated requests (CPU-bound in hypothesis) took longer than the suite's
# default 300 s; pytest-timeout's alarm then fired inside hypothesis's compile in the worker thread and broke
# pytest's own report of the test (a CPython AST SystemError) instead of naming it.
pytestmark = pytest.mark.timeout(1800)
TOKEN = issue_token(DEVELOPMENT_JWT_SECRET, "Schemathesis (every role)", list(Role), agency="police")


def _consumed_topics() -> list[str]:
    """Every topic one of the four services subscribes to (an agency's answers on its own topic)."""
    agencies = sorted(load_agencies().agencies)
    return [POLICE_NOTIFICATION, REFERRAL_RECEIVED, REFERRAL_AMENDED, ENQUIRY_OPENED, ENQUIRY_COMPLETED,
            ENQUIRY_ADDENDUM, DECISION_MADE, *(agency_response_topic(agency) for agency in agencies)]


def _poison() -> dict[str, bytes | None]:
    """One record of each malformed kind, keyed by what the dead letter must say."""
    envelope = {"event_id": str(uuid.uuid4()), "event_type": "decision.made", "schema_version": 1,
                "occurred_at": "2026-11-26T09:00:00+00:00", "correlation_id": "R-poison", "producer": "kcat",
                "payload": {}}
    untyped = {k: v for k, v in envelope.items() if k != "event_type"}
    return {
        "oversize_value": json.dumps({"pad": "x" * 900_000}).encode(),
        "empty_value:empty": b"",
        "empty_value:null": None,
        "invalid_event:not json": b"\x00\xff not json",
        "invalid_event:array": b"[1, 2, 3]",
        "invalid_event:untyped": json.dumps(untyped).encode(),
        "unsupported_schema_version:2": json.dumps({**envelope, "schema_version": 2}).encode(),
        "unsupported_schema_version:99": json.dumps({**envelope, "schema_version": 99}).encode(),
        "invalid_event:foreign type": json.dumps({**envelope, "event_type": "something.else"}).encode(),
    }


@pytest.fixture(scope="module")
async def hub(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    """The four services in a namespace of their own (no agencies: nothing answers the poison)."""
    workdir: Path = tmp_path_factory.mktemp("bad-input")
    running = Hub(HubConfig(
        kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
        namespace=f"bad{uuid.uuid4().hex[:8]}", workdir=workdir,
        service_env={"intake": {"MASH_INTAKE_CONTACTS_PER_MINUTE": "1000000", "MASH_INTAKE_CONTACTS_BURST": "100000"}},
    ))
    try:
        for service in SERVICES:
            await running.start_service(service, wait=False)
        for service in SERVICES:
            await running.services[service].wait_ready(READY_TIMEOUT)
        yield running
    finally:
        running.stop()


async def _group_offsets(bootstrap: str, namespace: str) -> dict[str, dict[TopicPartition, int]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(f"{namespace}.")]
        found = {}
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            found[group] = {tp: meta.offset for tp, meta in offsets.items()}
        return found
    finally:
        await admin.close()


async def _end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or set())]
        if not partitions:
            await consumer._client.force_metadata_update()  # fresh metadata for topics just created
            partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or set())]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def test_every_malformed_kind_on_every_consumed_topic_is_dead_lettered_and_no_partition_blocks(
    hub: Hub, infrastructure: Infrastructure,
) -> None:
    bootstrap, namespace = infrastructure.kafka_bootstrap, hub.config.namespace
    settings_ = HubSettings(topic_namespace=namespace)
    topics = [settings_.topic(t) for t in _consumed_topics()]
    poison = _poison()
    recorder = TopicRecorder(bootstrap, [settings_.topic(DEAD_LETTER)])
    async with recorder.running():
        for topic in topics:
            for value in poison.values():
                await produce_raw(bootstrap, topic, value, key=b"K")  # type: ignore[arg-type]
        ends = await _end_offsets(bootstrap, topics)
        assert sum(ends.values()) == len(topics) * len(poison)

        async def every_group_past_the_poison() -> dict[str, dict[TopicPartition, int]] | None:
            groups = await _group_offsets(bootstrap, namespace)
            consumed = {tp.topic for offsets in groups.values() for tp in offsets}
            caught_up = all(offset == ends.get(tp, offset) for offsets in groups.values()
                            for tp, offset in offsets.items() if tp in ends)
            return groups if consumed >= set(topics) and caught_up else None

        groups = await eventually(every_group_past_the_poison, timeout=180, interval=0.5,
                                  what="every consumer group past the poison on every topic")
        readers = Counter(tp.topic for offsets in groups.values() for tp in offsets if tp in ends)
        expected_letters = sum(len(poison) for topic in topics for _ in range(_groups_on(groups, topic)))

        async def all_letters() -> bool:
            return len(recorder.records) >= expected_letters

        await eventually(all_letters, timeout=60, what=f"{expected_letters} dead letters")

    letters: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in recorder.records:
        assert len(record.value) < 128 * 1024
        letter = record.json()["payload"]
        letters[(letter["origin_topic"], letter["consumer"])].append(letter)
    for (topic, consumer), found in letters.items():
        kinds = Counter(letter["error_type"] for letter in found)
        assert kinds == Counter(kind.split(":")[0] for kind in poison), (topic, consumer, kinds)
        assert all(letter["raw_size"] == len(base64.b64decode(letter["raw_base64"])) or letter["raw_truncated"]
                   for letter in found)
    assert {topic for topic, _ in letters} == set(topics), readers


def _groups_on(groups: dict[str, dict[TopicPartition, int]], topic: str) -> int:
    return sum(1 for offsets in groups.values() if any(tp.topic == topic for tp in offsets))


def _fuzz_operation(operation: Any, examples: int, mode: GenerationMode) -> tuple[Counter[int], Counter[str]]:
    """`examples` generated requests against one operation; their status codes and 422 messages."""
    seen: Counter[int] = Counter()
    refusals: Counter[str] = Counter()

    # Derandomised (issue 22): the same requests every run, so a failure found once is found again.
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate], database=None, derandomize=True)
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
        response = case.call(timeout=30)
        seen[response.status_code] += 1
        if response.status_code == 422:
            body = response.json()
            refusals.update([f["message"] for f in body.get("fields", [])] or [body.get("message", response.text)])
        assert response.status_code < 500, f"{operation.label}: {response.status_code} {response.text[:500]}"

    try:
        call()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise  # an operation without inputs has no invalid request; every operation has a valid one
    return seen, refusals


def _fuzz(base_url: str, examples: int, modes: tuple[GenerationMode, ...],
          only: tuple[str, str] | None = None) -> dict[str, tuple[Counter[int], Counter[str]]]:
    """Generated requests against one service's OpenAPI: per operation, status codes and 422 messages."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    found: dict[str, tuple[Counter[int], Counter[str]]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if only is not None and (operation.path, operation.method.upper()) != only:
            continue
        codes: Counter[int] = Counter()
        refusals: Counter[str] = Counter()
        for mode in modes:
            more_codes, more_refusals = _fuzz_operation(operation, examples, mode)
            codes += more_codes
            refusals += more_refusals
        found[f"{operation.method.upper()} {operation.path}"] = (codes, refusals)
    return found


async def test_generated_requests_against_every_services_openapi_get_no_server_error(
    hub: Hub, figures: Callable[[str], None],
) -> None:
    found: dict[str, dict[str, tuple[Counter[int], Counter[str]]]] = {}
    for service in SERVICES:
        found[service] = await asyncio.to_thread(
            _fuzz, hub.url(service), EXAMPLES_PER_OPERATION, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    requests = sum(sum(codes.values()) for ops in found.values() for codes, _ in ops.values())
    operations = sum(len(ops) for ops in found.values())
    figures(f"[schemathesis] {requests} generated requests over {operations} operations (at most "
            f"{EXAMPLES_PER_OPERATION} valid and {EXAMPLES_PER_OPERATION} invalid each), no 5xx")
    for service, ops in found.items():
        for name, (codes, _) in ops.items():
            figures(f"[schemathesis] {service} {name}: {dict(sorted(codes.items()))}")
    shut_out = [f"{service} {name}" for service, ops in found.items() for name, (codes, _) in ops.items()
                if set(codes) == {401}]
    assert not shut_out, f"the generated requests never got past sign-in: {shut_out}"


async def test_every_schema_valid_contact_is_accepted(hub: Hub, figures: Callable[[str], None]) -> None:
    found = await asyncio.to_thread(_fuzz, hub.url("intake"), CONTACT_EXAMPLES, (GenerationMode.POSITIVE,),
                                    ("/contacts", "POST"))
    codes, refusals = found["POST /contacts"]
    # Two rules JSON Schema cannot state (unique subject ids; the email validator's special-use domains such as
    # .test and .local, which the generator's `format: email` produces), and a reused Idempotency-Key.
    tolerated = ("subject_id must be unique within a contact", "special-use or reserved name",
                 "Idempotency-Key was already used")
    unexplained = {message: n for message, n in refusals.items() if not any(t in message for t in tolerated)}
    figures(f"[schemathesis] POST /contacts, {CONTACT_EXAMPLES} schema-valid contacts: "
            f"{dict(sorted(codes.items()))}; refusals {dict(refusals)}")
    assert not unexplained, unexplained
    assert codes[202] > 0
