"""The leak hunt: markers planted in agencies' sensitive items are found nowhere but the agency's own topic.

A property (hypothesis, a few bounded examples): every agency of every scenario in demo/scenarios.yaml
answers through the real agency kit (in this process, its own consumer group and producer) with items
drawn by hypothesis: shareable, sensitive and withheld, sensitive and released. Each sensitive item
carries unique marker strings in its summary and, as drawn, in whom it is about and its rating reason.
The hub's staff carry every scenario as the demo does (screen, enquire, decide on the recommendation,
handing off every candidate the desk offers); the silent agency of scenario 7 answers after the
decision, so its items travel as an addendum. Then the hunt searches, in clear:

- the bytes of every record on every topic of this run's namespace (a dead letter's raw bytes decoded);
- every log and span file the hub's processes wrote;
- every email and webhook body delivered;
- every document of every service's database.

A sensitive marker may appear only on the response topic of the agency that wrote it. Positive controls
make sure the hunt looks where things are: every sensitive marker is found on its agency's topic, every
shareable marker on enquiry.completed or enquiry.addendum, every released wording and every withheld
item's request route in a hand-off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import string
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from mash_agency import AgencyAnswer
from mash_agency.kit import AgencyKit, build_kit
from mash_agency.settings import AgencySettings
from mash_schemas import BragRating, EnquiryRequest, InformationItem, ReleaseCondition, Sensitivity
from mash_schemas.topics import agency_response_topic
from pymongo import AsyncMongoClient

from demo.client import HubClient
from demo.hub import SERVICES, Hub, HubConfig
from demo.postbox import Postbox
from demo.scenarios import CarriedCase, carry, load_scenarios
from tests.support.fast_hub import fast_service_env
from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

ENQUIRY_WINDOW_SECONDS = 10.0
SCENARIOS = load_scenarios()
LATE = {agency for scenario in SCENARIOS for agency in scenario.silent_agencies}
AGENCIES = sorted({agency for scenario in SCENARIOS for agency in scenario.agencies})
ItemKind = Literal["shareable", "withheld", "released"]


def _family(subjects: list[Any]) -> str:
    first = subjects[0]
    return str(first["family_name"] if isinstance(first, dict) else first.family_name)


# Which scenario a request is about, by its first subject's family name (unique across the scenarios).
SCENARIO_BY_FAMILY = {_family(s.contact["subjects"]): s.number for s in SCENARIOS}
SCENARIO_BY_FAMILY |= {_family(s.police_notification["subjects"]): s.number for s in SCENARIOS if s.police_notification}


# --- what hypothesis draws ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemPlan:
    """One item an agency will answer with: its kind, and where its markers go."""

    kind: ItemKind
    mark_about: bool = True
    mark_reason: bool = True
    token: str = "x"


@dataclass(frozen=True)
class AnswerPlan:
    """One agency's answer in one scenario: nothing known (no rating) or items with a rating."""

    rating: BragRating | None
    items: tuple[ItemPlan, ...] = ()


Plans = dict[int, dict[str, AnswerPlan]]

TOKENS = st.text(alphabet=string.ascii_letters, min_size=1, max_size=8)
ITEM_PLANS = st.builds(ItemPlan, kind=st.sampled_from(["shareable", "withheld", "released"]),
                       mark_about=st.booleans(), mark_reason=st.booleans(), token=TOKENS)
HELD = st.builds(AnswerPlan, rating=st.sampled_from(list(BragRating)),
                 items=st.lists(ITEM_PLANS, min_size=1, max_size=3).map(tuple))
ANSWERS = st.one_of(st.just(AnswerPlan(rating=None)), HELD, HELD)
PLANS = st.fixed_dictionaries({
    s.number: st.fixed_dictionaries({agency: ANSWERS for agency in s.agencies}) for s in SCENARIOS})
# Every agency of every scenario holds one item of each kind: the paths that matter, always explored.
EVERY_KIND = {s.number: {agency: AnswerPlan(rating=BragRating.AMBER, items=(
    ItemPlan("shareable"), ItemPlan("withheld"), ItemPlan("released"))) for agency in s.agencies} for s in SCENARIOS}


# --- the markers planted, and the agencies that answer with them ------------------------------------


@dataclass
class Planted:
    """The markers of one example: secret ones (per agency), and the controls."""

    secret: dict[str, str] = field(default_factory=dict)  # marker -> the agency that wrote it
    shareable: set[str] = field(default_factory=set)
    released: dict[str, str] = field(default_factory=dict)  # permitted wording -> agency
    routes: dict[str, str] = field(default_factory=dict)  # a withheld item's request route -> agency

    def mark(self, what: str, plan: ItemPlan) -> str:
        return f"{what}{plan.token}{uuid.uuid4().hex[:16]}".upper()


def _item(agency: str, number: int, plan: ItemPlan, planted: Planted) -> InformationItem:
    item_id = f"{agency[:3]}-{number}-{uuid.uuid4().hex[:6]}"
    if plan.kind == "shareable":
        summary = planted.mark("SHARED", plan)
        planted.shareable.add(summary)
        return InformationItem(item_id=item_id, about="the family", summary=f"Known to us: {summary}.",
                               sensitivity=Sensitivity.NON_SENSITIVE)
    secrets = [planted.mark("SEALED", plan)]
    about = planted.mark("ABOUT", plan) if plan.mark_about else "a person in the household"
    reason = planted.mark("REASON", plan) if plan.mark_reason else None
    secrets += [text for text in (about, reason) if text and text.startswith(("ABOUT", "REASON"))]
    planted.secret |= dict.fromkeys(secrets, agency)
    route = planted.mark("ROUTE", plan)
    wording = None
    if plan.kind == "released":
        wording = planted.mark("RELEASED", plan)
        planted.released[wording] = agency
    else:
        planted.routes[route] = agency
    return InformationItem(
        item_id=item_id, about=about, summary=f"Intelligence {secrets[0]}, not for onward sharing.",
        sensitivity=Sensitivity.SENSITIVE, rating_reason=reason,
        release=ReleaseCondition(permitted=wording is not None, permitted_wording=wording,
                                 request_route=f"Call the duty desk quoting {route}"))


def realise(plans: Plans) -> tuple[dict[tuple[int, str], AgencyAnswer], Planted]:
    """The answers every agency will give in this example, with fresh markers."""
    planted = Planted()
    answers: dict[tuple[int, str], AgencyAnswer] = {}
    for number, by_agency in plans.items():
        for agency, plan in by_agency.items():
            if plan.rating is None:
                answers[(number, agency)] = AgencyAnswer.nothing_known()
                continue
            items = [_item(agency, n, item, planted) for n, item in enumerate(plan.items)]
            answers[(number, agency)] = AgencyAnswer.information_held(items, plan.rating)
    return answers, planted


class PlannedAgency:
    """An agency's adapter that answers each scenario as this example planned."""

    def __init__(self, agency: str, answers: dict[tuple[int, str], AgencyAnswer]) -> None:
        self.agency = agency
        self.answers = answers  # shared, replaced per example

    async def search(self, request: EnquiryRequest) -> AgencyAnswer:
        number = SCENARIO_BY_FAMILY.get(_family(request.subjects))
        return self.answers.get((number or 0, self.agency), AgencyAnswer.nothing_known())


# --- the hub ------------------------------------------------------------------------------------------


@dataclass
class Run:
    """The hub, its postbox, its staff, the agencies' shared answer book and where everything lands."""

    hub: Hub
    postbox: Postbox
    client: HubClient
    answers: dict[tuple[int, str], AgencyAnswer]
    infrastructure: Infrastructure

    def kit(self, agency: str) -> AgencyKit:
        """The agency's kit, logged in as the agency itself on the secured broker (only its own topics)."""
        own = self.hub.agency_env(agency)
        login: dict[str, Any] = {"username": own["MASH_AGENCY_USERNAME"], "password": own["MASH_AGENCY_PASSWORD"],
                                 "create_topics": False} if own else {}
        settings = AgencySettings(name=agency, bootstrap_servers=self.infrastructure.kafka_bootstrap,
                                  namespace=self.hub.config.namespace, retry_backoff=0.5, **login)
        return build_kit(settings, PlannedAgency(agency, self.answers))


@contextlib.asynccontextmanager
async def running(*kits: AgencyKit) -> AsyncIterator[None]:
    started: list[AgencyKit] = []
    try:
        for kit in kits:
            await kit.broker.start()
            started.append(kit)
        yield
    finally:
        for kit in started:
            await kit.broker.stop()


@pytest.fixture(scope="module")
async def run(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    workdir: Path = tmp_path_factory.mktemp("leak-hunt")
    async with Postbox().running() as postbox:
        config = HubConfig(
            kafka_bootstrap=infrastructure.kafka_bootstrap,
            mongo_url=infrastructure.mongo_url,
            namespace=f"leak{uuid.uuid4().hex[:8]}",
            workdir=workdir,
            agencies={},  # the agencies are this test's own kits
            ready_timeout=180.0,  # five services start at once on two shared cores
            service_env=fast_service_env(workdir, postbox, enquiry_window_seconds=ENQUIRY_WINDOW_SECONDS,
                                         enquiry_sweep_seconds=0.3),
        )
        hub = Hub(config)
        client = HubClient(hub)
        try:
            await hub.start()
            yield Run(hub=hub, postbox=postbox, client=client, answers={}, infrastructure=infrastructure)
        finally:
            await client.close()
            hub.stop()


# --- the hunt -----------------------------------------------------------------------------------------


@dataclass
class Haystack:
    """Every place a marker could be, as (where, lower-cased text)."""

    places: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.places.append((where, text.lower()))

    def where(self, marker: str) -> list[str]:
        needle = marker.lower()
        return [where for where, text in self.places if needle in text]


async def _topic_records(bootstrap: str, namespace: str) -> list[tuple[str, bytes]]:
    """(topic, bytes of key, value and headers) of every record on every topic of the namespace."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(f"{namespace}."))
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    assert {tp.topic for tp in partitions} == set(topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[str, bytes]] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp, end in ends.items() if end > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, messages in batch.items():
                for message in messages:
                    headers = b" ".join(value for _, value in message.headers or [])
                    found.append((tp.topic, b" ".join([message.key or b"", message.value or b"", headers])))
                    if message.offset + 1 >= ends[tp]:
                        pending.discard(tp)
    finally:
        await consumer.stop()
    return found


def _with_dead_letters_opened(value: bytes) -> str:
    text = value.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError, KeyError, TypeError):
        record = json.loads(value[value.index(b"{"):])
        raw = record["payload"]["raw_base64"]
        text += "\n" + base64.b64decode(raw).decode("utf-8", errors="replace")
    return text


async def gather_haystack(run: Run) -> Haystack:
    hub, hay = run.hub, Haystack()
    for topic, value in await _topic_records(run.infrastructure.kafka_bootstrap, hub.config.namespace):
        hay.add(f"topic {topic}", _with_dead_letters_opened(value))
    for path in sorted(p for p in hub.config.workdir.rglob("*") if p.is_file() and p.suffix in {".log", ".out", ".jsonl"}):
        hay.add(f"file {path.relative_to(hub.config.workdir)}", path.read_text(encoding="utf-8", errors="replace"))
    for mail in run.postbox.mail:
        hay.add(f"email to {','.join(mail.to)}: {mail.subject}", f"{mail.subject}\n{mail.body}")
    for hook in run.postbox.hooks:
        hay.add(f"webhook {hook.path}", json.dumps(hook.payload, ensure_ascii=False))
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(run.infrastructure.mongo_url)
    try:
        for service in SERVICES:
            database = mongo[hub.database(service)]
            for name in await database.list_collection_names():
                for document in await database[name].find().to_list():
                    hay.add(f"database {hub.database(service)}.{name}", json.dumps(document, default=str))
    finally:
        await mongo.close()
    return hay


# --- the property -------------------------------------------------------------------------------------


def _handoffs(postbox: Postbox, referral_id: str) -> list[Any]:
    return [m for m in postbox.mail if referral_id in m.subject and "hand-off" in m.subject.lower()]


async def carry_every_scenario(run: Run) -> list[CarriedCase]:
    """Every scenario from contact to decision at once, the agencies that answer in time running."""
    async with running(*[run.kit(agency) for agency in AGENCIES if agency not in LATE]):
        carried = list(await asyncio.gather(*(carry(run.client, s, enquiry_timeout=90) for s in SCENARIOS)))

    async def delivered() -> bool:
        return all(_handoffs(run.postbox, case.referral_id) for case in carried)

    await eventually(delivered, timeout=60, interval=0.25, what="every hand-off delivered")
    return carried


async def answer_late(run: Run, carried: list[CarriedCase]) -> None:
    """The silent agencies answer now, after the decisions: their items reach the case as addenda."""
    waiting = [(case, agency) for case in carried for agency in case.scenario.silent_agencies]
    async with running(*[run.kit(agency) for agency in sorted(LATE)]):
        async def added() -> bool:
            for case, agency in waiting:
                view = await run.client.case(case.referral_id)
                if view is None or agency not in {a["findings"]["agency"] for a in view["case_file"]["addenda"]}:
                    return False
            return True

        await eventually(added, timeout=60, interval=0.25, what="the late answers on the case files")


@pytest.mark.timeout(480)  # about 2 minutes on a quiet machine; far longer on a crowded one
@settings(max_examples=2, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(plans=EVERY_KIND)
@given(plans=PLANS)
async def test_markers_in_sensitive_items_are_found_only_on_their_agencys_own_topic(run: Run, plans: Plans) -> None:
    answers, planted = realise(plans)
    run.answers.clear()
    run.answers.update(answers)

    carried = await carry_every_scenario(run)
    await answer_late(run, carried)
    hay = await gather_haystack(run)

    namespace = run.hub.config.namespace
    leaks: list[str] = []
    for marker, agency in planted.secret.items():
        own_topic = f"topic {namespace}.{agency_response_topic(agency)}"
        places = hay.where(marker)
        if own_topic not in places:
            leaks.append(f"control: {marker} of {agency} not found on its own topic (found: {places})")
        leaks += [f"{marker} of {agency} in {place}" for place in places if place != own_topic]
    assert not leaks, "\n".join(leaks)

    # The hunt looked where things are: shareable items on the enquiry topics; the released wording and
    # the withheld items' request routes of agencies that answered before the decision, in the hand-offs.
    handoffs = {f"email to {','.join(m.to)}: {m.subject}" for m in run.postbox.mail if "hand-off" in m.subject.lower()}
    enquiry_topics = {f"topic {namespace}.mash.enquiry.completed", f"topic {namespace}.mash.enquiry.addendum"}
    for marker in planted.shareable:
        assert enquiry_topics & set(hay.where(marker)), f"control: shareable {marker} not on the enquiry topics"
    in_time = {marker for marker, agency in (planted.released | planted.routes).items() if agency not in LATE}
    shown = {marker for marker in in_time if handoffs & set(hay.where(marker))}
    assert shown or not in_time, "control: no released wording or request route reached any hand-off"
