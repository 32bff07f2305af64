"""The hub as processes under a steady load of contacts, and the count of what became of them: what the fault
tests share (tests/faults/test_faults_under_load.py on the single broker, test_broker_faults_on_a_cluster.py on
three).

The whole hub runs (four services, three simulated agencies answering, a real SMTP server and webhook
receiver). Contacts keep arriving over HTTP and the desk's staff (desk_driver.py) carry each through
screening, an enquiry to three agencies and a decision to its hand-off. `count` then checks, where each
thing lands: every accepted contact exactly one case file and one `referral.received`; every decided case
exactly one decision; every agency request exactly one answer applied (one `enquiry.completed` per enquiry,
nobody left unanswered, no late duplicate); one hand-off per recipient at the SMTP server and the webhook
receiver, counted by the Message-ID / Idempotency-Key a receiver de-duplicates on (arrivals of the same id
again, which only a kill between a server's acceptance and notify's record can cause, are counted apart as
recognised repeats).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mash_runtime.settings import HubSettings
from mash_schemas.topics import DECISION_MADE, ENQUIRY_COMPLETED, REFERRAL_RECEIVED, agency_response_topic
from pymongo import AsyncMongoClient

from demo.client import HubClient
from demo.hub import AgencyOptions, Hub, HubConfig
from demo.postbox import Postbox
from demo.scenarios import write_timescales
from tests.faults.desk_driver import Carried, carry_through, varied
from tests.support.broker_control import BrokerControl
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

SERVICES = ("intake", "decision", "enquiry", "notify")  # the four that carry a contact to its hand-off
AGENCIES = ["police", "health", "early-help"]
READY_TIMEOUT = 240.0  # a service's start on a busy two-core machine; waited for as a condition
# How long the hub may make no progress: a broker restart on a loaded two-core machine took over three minutes.
PROGRESS_TIMEOUT = 600.0
CONTACT = json.loads((Path(__file__).resolve().parents[2] / "demo" / "contacts" / "scenario-5-quiet-worry.json")
                     .read_text(encoding="utf-8"))
ARRIVAL_PACE = 0.5  # seconds between two contacts at most: the load's pace, not a wait for anything
IN_FLIGHT = 4
MIN_CONTACTS = 8
SIGTERM_BOUND = 8.0  # steps of 1 s here (they took 1-4 s in all on a loaded machine); an unbounded relay wait alone took 10 s


def hub_config(bootstrap: str, mongo_url: str, namespace: str, workdir: Path, postbox: Postbox) -> HubConfig:
    """The hub of the fault tests: short shutdown steps, a fast sweep, notify sending to `postbox`."""
    recipients = postbox.write_recipients(workdir / "recipients.yaml")
    own = {
        "intake": {"MASH_INTAKE_CONTACTS_PER_MINUTE": "6000"},
        "decision": {"MASH_DECISION_TIMESCALES_FILE": str(write_timescales(workdir / "timescales.yaml", 3600))},
        "enquiry": {"MASH_ENQUIRY_SWEEP_SECONDS": "0.5"},
        "notify": {**postbox.notify_env(recipients), "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.2"},
    }
    return HubConfig(
        kafka_bootstrap=bootstrap, mongo_url=mongo_url, namespace=namespace, workdir=workdir,
        agencies={agency: AgencyOptions(delay="0.05-0.2") for agency in AGENCIES},
        services=SERVICES, ready_timeout=READY_TIMEOUT,
        service_env={s: {f"MASH_{s.upper()}_SHUTDOWN_STEP_SECONDS": "1", **own[s]} for s in SERVICES},
    )


def watched_topics(namespace: str) -> list[str]:
    """What the count reads: referral.received, decision.made, enquiry.completed, then each agency's answers."""
    topics = HubSettings(topic_namespace=namespace)
    watched = [topics.topic(t) for t in (REFERRAL_RECEIVED, DECISION_MADE, ENQUIRY_COMPLETED)]
    return watched + [topics.topic(agency_response_topic(agency)) for agency in AGENCIES]


class Run:
    """The hub under test, its load and what happened to it."""

    def __init__(self, hub: Hub, client: HubClient, postbox: Postbox) -> None:
        self.hub, self.client, self.postbox = hub, client, postbox
        self.carried: list[Carried] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.faults: list[tuple[str, float]] = []
        self.kills = self.restarts = 0
        self.loading = True

    def carry(self) -> Carried:
        """Send one more contact to the desk now (the load does this; a test may add one beyond its pace)."""
        carried = Carried(key=f"fault-{uuid.uuid4()}")
        n = len(self.carried)
        self.carried.append(carried)
        self.tasks.append(asyncio.create_task(carry_through(self.client, varied(CONTACT, n), carried, AGENCIES)))
        return carried

    async def load(self) -> None:
        """A steady load: IN_FLIGHT contacts at the desk at a time, until the faults are over and at least
        MIN_CONTACTS came (a closed loop, so a slow machine gets fewer contacts, never a growing backlog)."""
        while self.loading or len(self.carried) < MIN_CONTACTS:
            async def room() -> bool:
                return sum(1 for t in self.tasks if not t.done()) < IN_FLIGHT
            await eventually(room, timeout=PROGRESS_TIMEOUT, interval=0.1,
                             what=f"room for another contact; in flight: {self.in_flight()}")
            self.carry()
            await asyncio.sleep(ARRIVAL_PACE)  # noqa: sleep-ok - paces the offered load, not a wait for a result

    def in_flight(self) -> list[str]:
        """What each unfinished contact is doing (for a failure's message)."""
        return [f"{c.referral_id or c.key}: {c.steps[-3:]} retries {c.retries}" for c in self.carried
                if c.decided_at is None]

    def decided(self) -> int:
        return sum(1 for c in self.carried if c.decided_at is not None)

    async def more_decided_than(self, count: int, what: str) -> None:
        async def progressed() -> bool:
            return self.decided() > count
        await eventually(progressed, timeout=PROGRESS_TIMEOUT, interval=0.1, what=what)

    def fault(self, name: str) -> None:
        """Note that the fault `name` happens now (its time to recover is measured from here)."""
        self.faults.append((name, time.monotonic()))

    async def kill_and_restart(self, service: str) -> None:
        if service == "notify":
            async def mail_in_flight() -> bool:
                return self.postbox.smtp_in_flight > 0
            await eventually(mail_in_flight, timeout=120, interval=0.01, what="notify in the middle of a send")
        self.fault(f"SIGKILL {service}")
        self.hub.services[service].kill()
        self.kills += 1
        await start(self.hub, service)
        self.restarts += 1

    async def broker_outage(self, broker: BrokerControl) -> None:
        self.fault("broker restart")
        await asyncio.to_thread(broker.stop)
        for process in self.hub.services.values():
            assert process.proc is not None
            process.proc.terminate()
        lingering = []
        for name, process in self.hub.services.items():
            assert process.proc is not None
            try:
                await asyncio.to_thread(process.proc.wait, SIGTERM_BOUND)
            except subprocess.TimeoutExpired:
                lingering.append(name)
                process.kill()
        assert not lingering, f"with the broker down, still running {SIGTERM_BOUND} s after SIGTERM: {lingering}"
        await asyncio.to_thread(broker.start)
        self.restarts += 1
        await asyncio.gather(*(start(self.hub, service) for service in SERVICES))
        self.restarts += len(SERVICES)

    def recovery(self) -> dict[str, float]:
        """For each fault, the time until the next contact reached its decision after it."""
        found = {}
        for name, at in self.faults:
            after = [c.decided_at - at for c in self.carried if c.decided_at is not None and c.decided_at > at]
            found[name] = min(after) if after else float("nan")
        return found


async def start(hub: Hub, service: str) -> None:
    """Start (or restart) `service` and wait until it answers /ready."""
    await hub.start_service(service, wait=False)
    await hub.services[service].wait_ready(READY_TIMEOUT)


async def documents(mongo_url: str, database: str, collection: str) -> list[dict[str, Any]]:
    """Every document of a collection."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        return [doc async for doc in client[database][collection].find({})]
    finally:
        await client.close()


def distinct_ids(records: list[Any], key: str) -> dict[str, set[str]]:
    """payload[key] -> the distinct event ids published for it (a relay may repeat an event after a crash)."""
    found: dict[str, set[str]] = defaultdict(set)
    for record in records:
        event = record.json()
        found[event["payload"][key]].add(event["event_id"])
    return found


async def _all_sent(hub: Hub, mongo_url: str, accepted: set[str]) -> list[dict[str, Any]] | None:
    deliveries = await documents(mongo_url, hub.database("notify"), "deliveries")
    referrals = {d["referral_id"] for d in deliveries}
    done = referrals >= accepted and all(d["status"] == "sent" for d in deliveries)
    return deliveries if done else None


async def _true(value: bool) -> bool:
    return value


@dataclass
class Landed:
    """Where every accepted contact ended up, read once the load has drained."""

    accepted: set[str]
    contacts: list[dict[str, Any]]
    case_files: list[dict[str, Any]]
    enquiries: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]


@dataclass
class Count:
    """What `count` found."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    repeats: int = 0  # arrivals of an id the receiver already had (recognised by it; not a duplicate hand-off)
    decided: set[str] = field(default_factory=set)


async def drain(run: Run, recorder: TopicRecorder, mongo_url: str, watched: list[str]) -> Landed:
    """Stop the load, wait until every contact is decided, handed off and published, and read where it landed."""
    hub = run.hub
    await eventually(lambda: _true(all(t.done() for t in run.tasks)), timeout=PROGRESS_TIMEOUT,
                     what=f"every contact decided; in flight: {run.in_flight()}")
    await asyncio.gather(*run.tasks)
    accepted = {c.referral_id for c in run.carried if c.referral_id is not None}
    deliveries = await eventually(lambda: _all_sent(hub, mongo_url, accepted), timeout=60,
                                  what="every hand-off of every decided contact sent")

    async def everything_published() -> bool:
        return (set(distinct_ids(recorder.on(watched[1]), "referral_id")) >= accepted
                and len(distinct_ids(recorder.on(watched[2]), "enquiry_id")) >= len(accepted))

    await eventually(everything_published, timeout=60, what="every decision and completion on the topics")
    return Landed(
        accepted=accepted,
        contacts=await documents(mongo_url, hub.database("intake"), "contacts"),
        case_files=await documents(mongo_url, hub.database("decision"), "case_files"),
        enquiries=await documents(mongo_url, hub.database("enquiry"), "enquiries"),
        deliveries=deliveries,
    )


def count(landed: Landed, recorder: TopicRecorder, watched: list[str], postbox: Postbox) -> Count:
    """Exactly once, counted where it lands (see the module's docstring)."""
    found = Count()
    lost, duplicated, accepted = found.lost, found.duplicated, landed.accepted
    assert {c["_id"] for c in landed.contacts} == accepted
    if {c["_id"] for c in landed.case_files} != accepted:
        lost += sorted(accepted - {c["_id"] for c in landed.case_files})
    received = distinct_ids(recorder.on(watched[0]), "referral_id")
    duplicated += [f"referral.received {r}" for r, ids in received.items() if len(ids) != 1]
    decisions = distinct_ids(recorder.on(watched[1]), "referral_id")
    lost += [f"decision {r}" for r in accepted - set(decisions)]
    duplicated += [f"decision.made {r}" for r, ids in decisions.items() if len(ids) != 1]
    completed = distinct_ids(recorder.on(watched[2]), "enquiry_id")
    duplicated += [f"enquiry.completed {e}" for e, ids in completed.items() if len(ids) != 1]
    for enquiry in landed.enquiries:
        answered = sorted(enquiry["responses"])
        if answered != sorted(AGENCIES):
            lost += [f"answer {enquiry['_id']}: only {answered}"]
        if enquiry.get("late_responses"):
            duplicated += [f"late answer {enquiry['_id']}: {sorted(enquiry['late_responses'])}"]
    answers: Counter[str] = Counter()
    for topic in watched[3:]:
        for request, ids in distinct_ids(recorder.on(topic), "request_id").items():
            answers[request] = len(ids)
    duplicated += [f"agency answer {r}" for r, n in answers.items() if n != 1]

    arrivals_mail = Counter(m.message_id for m in postbox.mail)
    arrivals_hooks = Counter(h.idempotency_key for h in postbox.hooks)
    handoffs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for delivery in landed.deliveries:
        wire_id = f"<{delivery['_id']}@mash-hub>" if delivery["channel"] == "email" else delivery["_id"]
        arrived = (arrivals_mail if delivery["channel"] == "email" else arrivals_hooks).get(wire_id, 0)
        if delivery["channel"] in {"email", "webhook"} and arrived == 0:
            lost.append(f"{delivery['kind']} to {delivery['to']} for {delivery['referral_id']}")
        if delivery["kind"] == "handoff" and arrived:
            handoffs[(delivery["referral_id"], delivery["to"])].add(wire_id)
    duplicated += [f"hand-off {key}" for key, ids in handoffs.items() if len(ids) != 1]
    found.decided = {c["_id"] for c in landed.case_files if c["state"] == "decided"}
    lost += [f"hand-off for {r}" for r in found.decided - {r for r, _ in handoffs}]
    found.repeats = sum(n - 1 for n in arrivals_mail.values()) + sum(n - 1 for n in arrivals_hooks.values())
    return found
