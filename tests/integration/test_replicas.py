"""Two replicas of intake, decision, enquiry and notify, as processes on the same databases and topics, under load.

Each of the four services runs as two copies (demo.hub's `replicas`): HTTP calls alternate between the
copies, as a load balancer would send them; the copies' consumers share their consumer groups, so the
partitions are split between them; both copies of enquiry run the due-time sweep, so they race to
complete the same enquiries; both copies of notify sweep for due deliveries, so they race to send the
same messages (each claims a message before sending it).

While contacts are carried from contact to hand-off, the same aggregates are also written from both
copies at once: corrections of one contact, one contact POSTed with one Idempotency-Key, one decision
from two managers. Afterwards, from the databases, the topics and the postbox:
- no lost update: every correction is on the contact and reached the case file;
- nothing done twice: one contact per Idempotency-Key, one decision per case (the same decision.made
  however often it went by), one enquiry completion per enquiry, one email per message;
- both copies did the work: each copy of decision opened case files or decided, each copy of enquiry took
  answers, each copy of notify queued decisions or sent messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mash_schemas.topics import DECISION_MADE, ENQUIRY_COMPLETED, REFERRAL_AMENDED, REFERRAL_RECEIVED
from pymongo import AsyncMongoClient

from demo.client import HubClient
from demo.hub import AgencyOptions, Hub, HubConfig
from demo.postbox import Postbox
from demo.scenarios import NOT_YET_SOUGHT, PROCEED_WITHOUT_CONSENT, CarriedCase, Scenario, carry, load_scenarios
from tests.support.fast_hub import fast_service_env
from tests.support.infrastructure import Infrastructure
from tests.support.topics import Recorded, TopicRecorder
from tests.support.waiting import eventually

REPLICATED = ("intake", "decision", "enquiry", "notify")
CYCLES = 8  # contacts carried through the whole machine at once
SILENT = "probation"  # asked, never answers (no kit runs for it): those enquiries complete by the sweep
ENQUIRY_WINDOW_SECONDS = 30.0  # the agencies answer at once; on a crowded machine "at once" takes seconds
CORRECTIONS = 6
TOP_UP, TOP_UP_ROUNDS = 4, 4  # further contacts carried at a time, until every copy has had work
WORK = {"decision": ("case file opened", "decision made"), "enquiry": ("agency response taken",),
        "notify": ("decision queued for delivery", "message delivered")}  # what each service logs when it works

pytestmark = pytest.mark.timeout(420)  # about 2 minutes on a quiet machine; far longer on a crowded one


@pytest.fixture(scope="module")
async def postbox() -> AsyncIterator[Postbox]:
    """A real SMTP server and webhook receiver for notify's deliveries."""
    async with Postbox().running() as box:
        yield box


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """A contact whose enquiry goes to three agencies that answer at once."""
    return next(s for s in load_scenarios() if s.key == "quiet-worry")


@pytest.fixture(scope="module")
async def hub(
    infrastructure: Infrastructure, postbox: Postbox, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    """Two copies each of intake, decision, enquiry and notify; the scenario's agencies, answering at once."""
    workdir: Path = tmp_path_factory.mktemp("replicas")
    config = HubConfig(
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        mongo_url=infrastructure.mongo_url,
        namespace=f"rep{uuid.uuid4().hex[:8]}",
        workdir=workdir,
        agencies={name: AgencyOptions(delay="0-0.05") for name in scenario.agencies},
        services=("intake", "decision", "enquiry", "notify"),
        replicas=dict.fromkeys(REPLICATED, 2),
        ready_timeout=180.0,  # eight services start at once on two shared cores
        # Intake also knows the demo's register, as in every whole-hub test; the scenario's child is not on it.
        service_env=fast_service_env(workdir, postbox, enquiry_window_seconds=ENQUIRY_WINDOW_SECONDS,
                                     enquiry_sweep_seconds=0.2),
    )
    running = Hub(config)
    try:
        await running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
async def client(hub: Hub) -> AsyncIterator[HubClient]:
    """Calls go to each copy of a service in turn."""
    staff = HubClient(hub, timeout=60.0, keepalive=False)
    yield staff
    await staff.close()


@pytest.fixture(scope="module")
async def mongo(hub: Hub) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """The hub's store, to look at what the services kept."""
    connection: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(hub.config.mongo_url, tz_aware=True)
    yield connection
    await connection.close()


def _by_key(records: list[Recorded]) -> dict[str, list[Recorded]]:
    grouped: dict[str, list[Recorded]] = defaultdict(list)
    for record in records:
        grouped[record.key or ""].append(record)
    return grouped


def _one_event_each(records: list[Recorded], keys: set[str], what: str) -> None:
    """Every key has the event, and every record of it is the same event (a relay may repeat one, never vary it)."""
    grouped = _by_key(records)
    assert keys <= set(grouped), f"{what}: missing for {sorted(keys - set(grouped))}"
    for key in keys:
        values = {json.dumps(record.json(), sort_keys=True) for record in grouped[key]}
        assert len(values) == 1, f"{what} for {key}: {len(values)} different events"


async def _race_corrections(client: HubClient, hub: Hub, scenario: Scenario) -> tuple[str, list[str]]:
    """One contact corrected by several referrers at once, through both copies of intake."""
    response = await client.submit_contact(scenario.contact, idempotency_key=f"race-{uuid.uuid4()}")
    response.raise_for_status()
    referral_id, token = response.json()["referral_id"], response.json()["status_token"]
    notes = [f"Further information {n}: the school nurse has seen the child again." for n in range(CORRECTIONS)]
    urls = hub.urls("intake")

    async def correct(n: int) -> None:
        async with httpx.AsyncClient(timeout=30.0) as http:  # the copy is chosen here, not in turn
            answer = await http.patch(
                f"{urls[n % len(urls)]}/contacts/{referral_id}",
                json={"amended_by": f"referrer {n}", "additional_information": notes[n]},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 202, answer.text

    await asyncio.gather(*(correct(n) for n in range(CORRECTIONS)))
    return referral_id, notes


async def _race_one_idempotency_key(client: HubClient, scenario: Scenario) -> tuple[str, list[bool]]:
    """The same contact, with the same Idempotency-Key, POSTed four times at once through both copies."""
    key = f"retry-{uuid.uuid4()}"
    answers = await asyncio.gather(*(client.submit_contact(scenario.contact, idempotency_key=key) for _ in range(4)))
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
    assert len({a.json()["referral_id"] for a in answers}) == 1
    return answers[0].json()["referral_id"], [a.json()["new"] for a in answers]


async def test_two_replicas_of_each_service_lose_no_update_and_do_nothing_twice(
    hub: Hub, client: HubClient, postbox: Postbox, mongo: AsyncMongoClient[dict[str, Any]], scenario: Scenario
) -> None:
    recorder = TopicRecorder(hub.config.kafka_bootstrap, [
        hub.config.namespace + "." + topic
        for topic in (REFERRAL_RECEIVED, REFERRAL_AMENDED, ENQUIRY_COMPLETED, DECISION_MADE)
    ])
    slow = dataclasses.replace(scenario, agencies=[*scenario.agencies, SILENT])
    async with recorder.running():
        corrected_id, notes = await _race_corrections(client, hub, scenario)
        retried_id, new_flags = await _race_one_idempotency_key(client, scenario)
        racing = asyncio.create_task(_two_managers_decide_at_once(client, hub, scenario))
        carried: list[CarriedCase] = await asyncio.gather(
            *(carry(client, slow if n % 4 == 0 else scenario, enquiry_timeout=180, case_timeout=120, poll=1.0)
              for n in range(CYCLES)))
        raced_id, answers = await racing
        decided = {c.referral_id for c in carried} | {raced_id}

        deliveries = mongo[hub.database("notify")]["deliveries"]

        async def all_sent_for(referrals: set[str]) -> list[dict[str, Any]] | None:
            found = await deliveries.find({"referral_id": {"$in": sorted(referrals)}}).to_list()
            handoffs = {d["referral_id"] for d in found if d["kind"] == "handoff" and d["status"] == "sent"}
            return found if handoffs == referrals and all(d["status"] == "sent" for d in found) else None

        sent = await eventually(lambda: all_sent_for(decided), timeout=120, interval=0.25, what="every message of every decision sent")

        def on(topic: str) -> list[Recorded]:
            return recorder.on(f"{hub.config.namespace}.{topic}")

        async def amendments_recorded() -> bool:
            return len(_by_key(on(REFERRAL_AMENDED)).get(corrected_id, [])) >= CORRECTIONS

        await eventually(amendments_recorded, timeout=60, what="every correction published")

        async def all_events_seen() -> bool:
            return decided <= set(_by_key(on(DECISION_MADE))) and decided <= set(_by_key(on(ENQUIRY_COMPLETED)))

        await eventually(all_events_seen, timeout=60, what="every decision and completion on the topics")

    # No lost update: every correction made through either copy is on the contact, and reached the case file.
    contact = await mongo[hub.database("intake")]["contacts"].find_one({"_id": corrected_id})
    assert contact is not None
    assert sorted(a["additional_information"] for a in contact["amendments"]) == sorted(notes)
    amended = {r.json()["event_id"] for r in _by_key(on(REFERRAL_AMENDED))[corrected_id]}
    assert len(amended) == CORRECTIONS

    async def case_has_every_correction() -> bool:
        case = await client.case(corrected_id)
        return case is not None and len(case["case_file"]["amendments"]) == CORRECTIONS

    await eventually(case_has_every_correction, timeout=60, what="every correction on the case file")

    # One contact per Idempotency-Key, however many copies took the POST.
    assert new_flags.count(True) == 1
    assert len(_by_key(on(REFERRAL_RECEIVED))[retried_id]) == 1
    assert await mongo[hub.database("decision")]["case_files"].count_documents({"_id": retried_id}) == 1

    # One decision per case: of two managers deciding at once on the two copies, one is taken.
    assert sorted(answers) == [202, 409]
    _one_event_each(on(DECISION_MADE), decided, "decision.made")
    _one_event_each(on(ENQUIRY_COMPLETED), decided, "enquiry.completed")
    not_answered = {r.key: r.json()["payload"]["not_answered"] for r in on(ENQUIRY_COMPLETED)}
    assert all((SILENT in not_answered[c.referral_id]) == (SILENT in c.scenario.agencies) for c in carried)
    cases = await mongo[hub.database("decision")]["case_files"].find({"_id": {"$in": sorted(decided)}}).to_list()
    assert {c["_id"] for c in cases} == decided
    assert all(c["state"] == "decided" for c in cases)

    # Intake shows each outcome once, whichever copy consumed the decision.
    contacts = await mongo[hub.database("intake")]["contacts"].find({"_id": {"$in": sorted(decided)}}).to_list()
    assert len(contacts) == len(decided)
    for each in contacts:
        assert [h["what"] for h in each["history"]].count(f"decided: {each['outcome']}") == 1, each["_id"]

    # One email or webhook per message, and one message per (decision, recipient, kind).
    mails = Counter((tuple(m.to), m.subject, m.message_id) for m in postbox.mail)
    assert all(count == 1 for count in mails.values()), [k for k, n in mails.items() if n > 1]
    hooks = Counter(h.idempotency_key for h in postbox.hooks)
    assert all(count == 1 for count in hooks.values())
    outgoing = [d for d in sent if d["channel"] in ("email", "webhook")]
    assert len(postbox.mail) + len(postbox.hooks) == len(outgoing)  # each delivery went out once, none twice
    mentioned = Counter(rid for m in postbox.mail for rid in decided if rid in m.subject or rid in m.body)
    assert all(mentioned[rid] >= 1 for rid in decided)

    # Both copies did the work. Referral ids are random and each topic's three partitions are split two and one
    # between the copies, so n referrals leave the one-partition copy with nothing to do with probability (2/3)^n
    # (about 1 in 40 for this run's nine enquiries). Carry more contacts, a few at a time, until every copy has
    # taken some (TOP_UP_ROUNDS at most: about 1 in 25,000 by then); a copy that never joined its group still fails.
    for _ in range(TOP_UP_ROUNDS):
        if not _idle_copies(hub):
            break
        more = await asyncio.gather(*(carry(client, scenario, enquiry_timeout=180, case_timeout=120, poll=1.0)
                                      for _ in range(TOP_UP)))
        further = {c.referral_id for c in more}
        await eventually(lambda: all_sent_for(further), timeout=120, interval=0.25,  # noqa: B023 (awaited here)
                         what="the further contacts' messages sent")
    assert not _idle_copies(hub), f"{_idle_copies(hub)} did none of their service's work"


def _idle_copies(hub: Hub) -> list[str]:
    """The copies whose log shows none of their service's work."""
    idle = []
    for service, lines in WORK.items():
        for process in hub.copies(service):
            log = (hub.config.workdir / "logs" / f"{process.name}.log").read_text(encoding="utf-8")
            if not any(line in log for line in lines):
                idle.append(process.name)
    return idle


async def _two_managers_decide_at_once(client: HubClient, hub: Hub, scenario: Scenario) -> tuple[str, list[int]]:
    """Carry a contact to the point of decision, then POST two different decisions on the two copies at once."""
    response = await client.submit_contact(scenario.contact, idempotency_key=f"two-managers-{uuid.uuid4()}")
    response.raise_for_status()
    referral_id = response.json()["referral_id"]

    async def in_state(state: str) -> dict[str, Any] | None:
        case = await client.case(referral_id)
        return case if case and case["case_file"]["state"] == state else None

    case = await eventually(lambda: in_state("awaiting_screening"), timeout=120, interval=0.5, what="case open")
    rating = case["case_file"]["referral"]["suggested_rating"]["rating"]
    (await client.desk(referral_id, "screening", {"rating": rating, "childs_voice": NOT_YET_SOUGHT},
                       as_=client.screener)).raise_for_status()
    enquiry: dict[str, Any] = {"agencies": scenario.agencies, "questions": ["What do you know of this family?"]}
    if scenario.contact["consent"]["status"] == "given":
        enquiry["consent_check"] = "given"
    else:
        enquiry["proceed_without_consent_reason"] = PROCEED_WITHOUT_CONSENT
    (await client.desk(referral_id, "enquiry", enquiry)).raise_for_status()
    case = await eventually(lambda: in_state("awaiting_decision"), timeout=180, interval=0.5, what="decision due")
    recommendation = case["recommendation"]
    urls = hub.urls("decision")

    async def decide(n: int) -> int:
        async with httpx.AsyncClient(timeout=30.0) as http:  # each manager on another copy
            answer = await http.post(
                f"{urls[n % len(urls)]}/cases/{referral_id}/decision",
                json={"outcome": recommendation["outcome"], "rating": recommendation["rating"],
                      "rationale": f"Manager {n} decides on the enquiry's findings.",
                      "handoff_item_ids": case["handoff_candidates"]},
                headers=client.manager,
            )
        return answer.status_code

    return referral_id, list(await asyncio.gather(decide(0), decide(1)))
