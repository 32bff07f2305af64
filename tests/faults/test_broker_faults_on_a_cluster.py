"""Brokers fail under load on a secured three-broker cluster, and nothing is lost or done twice.

The hub runs as processes on the fault suite's own cluster (`kafka_cluster`: three KRaft nodes, each broker
and controller, SCRAM and ACLs as on the single stack), its topics created with replication 3 and
min.insync.replicas 2, while the desk carries a steady load of contacts to their hand-offs
(hub_under_load.py). One hub and one load go through three faults in turn:

1. **the busiest broker is SIGKILLed**: the one that leads the most of the hub's partitions (found with
   the admin client's describe of the hub's topics). The others must take over its partitions and a contact
   that arrives after the kill must reach its decision while it is dead; then it is started again and
   must rejoin the in-sync replicas of every partition;
2. **a rolling restart**: each broker in turn is stopped (SIGTERM) and started, and the next one waits
   until it is back in the in-sync replicas of every partition (the hub's and the consumer offsets');
3. **two of three brokers down at once** (both SIGKILLed). Below min.insync.replicas nothing may be
   published, but the front door must keep accepting: contacts are accepted (202) while two are down, and
   each is stored with its outbox entry still pending and nothing of it on the topics when a broker comes
   back. With one broker back (two of three), everything must flow again: those contacts reach their
   decisions before the third returns.

Combined broker+controller nodes mean two down is also a lost controller quorum: no leader can be elected
and no in-sync set can shrink, so a send waits for replicas that are gone. When one node returns, a
partition whose in-sync set is then the survivor alone refuses writes with NotEnoughReplicas until the
returning one has caught up, and the producers retry (the test prints how many refusals it saw). Either
way nothing is acknowledged below two replicas, or visible to a consumer, which is what the check
observes: the relay clears an outbox entry only once the brokers acknowledged it.

Then the count of every fault test (hub_under_load.count): every accepted contact exactly one case file,
one decision, one hand-off per recipient; nothing lost, nothing twice. It prints the time to recover from
each fault: from the fault to the first decision of a contact accepted after it, which needs the whole
path (referral.received, screening, an enquiry to three agencies and their answers) to work again; and how
long each restarted broker took to be back in every in-sync replica set.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from mash_runtime.store import OUTBOX, OUTBOX_PENDING

from demo.client import HubClient
from demo.hub import Hub
from demo.kafka_access import ADMIN, KafkaAccess
from demo.postbox import Postbox
from tests.faults.desk_driver import Carried
from tests.faults.hub_under_load import PROGRESS_TIMEOUT, Run, count, documents, drain, hub_config, watched_topics
from tests.support.broker_control import BrokerControl, OwnStack
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

CONSUMER_OFFSETS = "__consumer_offsets"
REPLICATION, MIN_INSYNC = 3, 2
DURING_OUTAGE = 3  # contacts sent to the front door while two brokers are down
IN_SYNC_TIMEOUT = 300.0  # a restarted broker catching up on a loaded two-core machine; waited for as a condition


async def _describe(admin: AIOKafkaAdminClient, topics: list[str]) -> list[dict[str, Any]]:
    """Every partition of `topics`: its topic, leader, replicas and in-sync replicas (fresh metadata)."""
    found = []
    for topic in await admin.describe_topics(topics):
        found += [{"topic": topic["topic"], **partition} for partition in topic["partitions"]]
    return found


async def _hub_topics(admin: AIOKafkaAdminClient, namespace: str) -> list[str]:
    return sorted(t for t in await admin.list_topics() if t.startswith(f"{namespace}."))


async def _busiest(admin: AIOKafkaAdminClient, topics: list[str]) -> tuple[int, int, int]:
    """The node that leads the most of `topics`' partitions: (node id, partitions it leads, partitions)."""
    partitions = await _describe(admin, topics)
    leaders = Counter(p["leader"] for p in partitions if p["leader"] >= 0)
    node, led = leaders.most_common(1)[0]
    return node, led, len(partitions)


async def _all_in_sync(admin: AIOKafkaAdminClient, topics: list[str], nodes: set[int]) -> bool:
    """Whether every partition of `topics` has a leader and every node of `nodes` in its in-sync replicas."""
    partitions = await _describe(admin, topics)
    return bool(partitions) and all(p["leader"] >= 0 and nodes <= set(p["isr"]) for p in partitions)


async def _topic_settings(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, tuple[int, str]]:
    """topic -> (replicas of its first partition, its effective min.insync.replicas)."""
    replicas = {p["topic"]: len(p["replicas"]) for p in await _describe(admin, topics) if p["partition"] == 0}
    resources = [ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None}) for topic in topics]
    found: dict[str, tuple[int, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            entries = {entry[0]: entry[1] for entry in resource[4]}
            found[resource[3]] = (replicas.get(resource[3], 0), entries.get("min.insync.replicas", "?"))
    return found


class Cluster:
    """The cluster under test as the test sees it: node names, an admin client, the hub's topics."""

    def __init__(self, control: BrokerControl, admin: AIOKafkaAdminClient, topics: list[str]) -> None:
        self.control, self.admin, self.topics = control, admin, topics
        self.nodes = {int(name.rsplit("-", 1)[1]): name for name in control.nodes}
        self.back_in_sync: dict[str, float] = {}

    async def kill(self, *nodes: int) -> None:
        await asyncio.to_thread(self.control.kill, *(self.nodes[n] for n in nodes))

    async def stop(self, node: int) -> None:
        await asyncio.to_thread(self.control.stop, self.nodes[node])

    async def start(self, node: int, what: str) -> None:
        """Start `node` and wait until it is in the in-sync replicas of every partition; note how long that took."""
        began = time.monotonic()
        await asyncio.to_thread(self.control.start, self.nodes[node])
        await self.in_sync(f"{self.nodes[node]} back in every in-sync replica set ({what})")
        self.back_in_sync[what] = time.monotonic() - began

    async def in_sync(self, what: str) -> None:
        watched = [*self.topics, CONSUMER_OFFSETS]

        async def every_node_in_sync() -> bool:
            return await _all_in_sync(self.admin, watched, set(self.nodes))

        await eventually(every_node_in_sync, timeout=IN_SYNC_TIMEOUT, interval=0.5, what=what)


def _accepted_after(run: Run, at: float) -> list[Carried]:
    return [c for c in run.carried if c.accepted_at is not None and c.accepted_at > at]


async def _decided_from_after(run: Run, at: float, what: str) -> None:
    """Wait until a contact accepted after `at` has reached its decision: the whole path works again."""
    async def one_decided() -> bool:
        return any(c.decided_at is not None for c in _accepted_after(run, at))
    await eventually(one_decided, timeout=PROGRESS_TIMEOUT, interval=0.1, what=f"{what}; in flight: {run.in_flight()}")


def recovery(run: Run) -> dict[str, float]:
    """For each fault, the time to the first decision of a contact accepted after it."""
    found = {}
    for name, at in run.faults:
        after = [c.decided_at - at for c in _accepted_after(run, at) if c.decided_at is not None]
        found[name] = min(after) if after else float("nan")
    return found


def _refused_sends(logs: Path, since: datetime, until: datetime) -> Counter[str]:
    """The produce requests the brokers refused between `since` and `until`, by error, in every service's log.

    The producers retry these themselves (aiokafka logs each at WARNING): NotEnoughReplicasError is a broker
    refusing a write its partition has fewer than min.insync.replicas in-sync replicas for.
    """
    refused: Counter[str] = Counter()
    for log in sorted(logs.glob("*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if "Got error produce response" not in line:
                continue
            try:  # the services log JSON lines; the agency kits plain ones, stamped in local time
                entry = json.loads(line)
                at, message = datetime.fromisoformat(entry["ts"]), str(entry.get("message", ""))
            except (ValueError, KeyError, TypeError):
                try:
                    at, message = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone(), line
                except ValueError:
                    continue
            error = re.search(r"\b([A-Z]\w+Error)\b", message)
            if since <= at <= until:
                refused[error.group(1) if error else "unnamed"] += 1
    return refused


@pytest.mark.timeout(2400)  # about 4 minutes on a quiet two-core machine; far longer when it is shared
async def test_nothing_lost_or_duplicated_when_brokers_of_a_three_broker_cluster_fail(
    kafka_cluster: OwnStack, on_cluster: KafkaAccess, postbox: Postbox, tmp_path: Path,
    figures: Callable[[str], None],
) -> None:
    namespace = f"cluster{uuid.uuid4().hex[:8]}"
    bootstrap, mongo_url = kafka_cluster.bootstrap, kafka_cluster.mongo_url
    postbox.smtp_delay = 0.1
    hub = Hub(hub_config(bootstrap, mongo_url, namespace, tmp_path, postbox))
    watched = watched_topics(namespace)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **on_cluster.client_options(ADMIN))
    started = time.monotonic()
    outage: dict[str, Any] = {}
    try:
        await admin.start()
        await hub.start()
        recorder = TopicRecorder(bootstrap, watched)
        client = HubClient(hub)
        run = Run(hub, client, postbox)
        async with recorder.running():
            loader = asyncio.create_task(run.load())
            try:
                await run.more_decided_than(0, "a first decision on the cluster")
                cluster = Cluster(kafka_cluster.control(), admin, await _hub_topics(admin, namespace))
                settings = await _topic_settings(admin, cluster.topics)
                assert settings and all(s == (REPLICATION, str(MIN_INSYNC)) for s in settings.values()), settings
                await cluster.in_sync("every broker in sync before the faults")

                # 1. SIGKILL the broker that leads the most of the hub's partitions; the others carry on; it returns.
                node, led, partitions = await _busiest(admin, cluster.topics)
                name = f"SIGKILL {cluster.nodes[node]} (leader of {led} of {partitions} partitions)"
                run.fault(name)
                await cluster.kill(node)
                await _decided_from_after(run, run.faults[-1][1], f"a contact decided with {cluster.nodes[node]} dead")
                await cluster.start(node, "after SIGKILL")

                # 2. A rolling restart, one broker at a time, each back in sync before the next.
                for each in sorted(cluster.nodes):
                    run.fault(f"rolling restart of {cluster.nodes[each]}")
                    await cluster.stop(each)
                    await cluster.start(each, f"rolling restart of {cluster.nodes[each]}")
                await _decided_from_after(run, run.faults[-1][1], "a contact decided after the rolling restart")

                # 3. Two of three down at once: the front door keeps accepting, nothing is published, then one returns.
                first, _, _ = await _busiest(admin, cluster.topics)
                second = next(n for n in sorted(cluster.nodes) if n != first)
                run.fault(f"{cluster.nodes[first]} and {cluster.nodes[second]} down at once (SIGKILL)")
                outage["began"], outage["began_utc"] = run.faults[-1][1], datetime.now(UTC)
                await cluster.kill(first, second)
                during = [run.carry() for _ in range(DURING_OUTAGE)]

                async def all_accepted() -> bool:
                    return all(c.referral_id is not None for c in during)

                await eventually(all_accepted, timeout=PROGRESS_TIMEOUT, interval=0.1,
                                 what=f"{DURING_OUTAGE} contacts accepted (202) while two brokers are down")
                referrals = {c.referral_id for c in during}
                stored = {d["_id"]: d for d in await documents(mongo_url, hub.database("intake"), "contacts")
                          if d["_id"] in referrals}
                outage["stored"] = stored
                outage["published"] = {r for r in referrals
                                       if any(rec.json()["payload"]["referral_id"] == r for rec in recorder.on(watched[0]))}
                outage["ended"] = time.monotonic()
                run.fault(f"{cluster.nodes[first]} back (two of three)")
                await asyncio.to_thread(cluster.control.start, cluster.nodes[first])

                async def outage_contacts_decided() -> bool:
                    return all(c.decided_at is not None for c in during)

                await eventually(outage_contacts_decided, timeout=PROGRESS_TIMEOUT, interval=0.1,
                                 what=f"the contacts of the outage decided with two brokers of three; {run.in_flight()}")
                outage["flowed"] = time.monotonic() - outage["ended"]
                outage["refused"] = _refused_sends(tmp_path / "logs", outage["began_utc"], datetime.now(UTC))
                await cluster.start(second, f"{cluster.nodes[second]} after two were down")
            finally:
                run.loading = False
            await loader
            landed = await drain(run, recorder, mongo_url, watched)
        await client.close()
    finally:
        hub.stop()
        await admin.close()

    found = count(landed, recorder, watched, postbox)
    figures(f"[cluster faults] contacts {len(landed.accepted)} accepted, {len(found.decided)} decided; "
            f"lost {len(found.lost)}; duplicated {len(found.duplicated)}; repeats recognised by the receiver "
            f"{found.repeats}; client retries {sum(c.retries for c in run.carried)}; "
            f"{len(postbox.distinct_mail())} emails and {len(postbox.distinct_hooks())} webhook calls; "
            f"run {time.monotonic() - started:.0f} s")
    figures("[cluster faults] time to recover (fault to the first decision of a contact accepted after it): "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in recovery(run).items()))
    figures("[cluster faults] back in every in-sync replica set after its start command: "
            + ", ".join(f"{what} {seconds:.1f} s" for what, seconds in cluster.back_in_sync.items()))
    figures(f"[cluster faults] two down for {outage['ended'] - outage['began']:.1f} s: {len(outage['stored'])} "
            f"contacts accepted and stored, outbox pending {sum(bool(d.get(OUTBOX)) for d in outage['stored'].values())}, "
            f"published {len(outage['published'])}; decided {outage['flowed']:.1f} s after one returned; "
            f"sends the brokers refused from two down until then, retried by the producers: "
            f"{dict(outage['refused']) or 'none'}")

    # Two down: accepted, stored with the outbox entry pending, nothing published until one came back.
    assert set(outage["stored"]) == {c.referral_id for c in during}, outage["stored"].keys()
    assert all(d.get(OUTBOX) and d.get(OUTBOX_PENDING) for d in outage["stored"].values()), \
        {r: (d.get(OUTBOX_PENDING), len(d.get(OUTBOX) or [])) for r, d in outage["stored"].items()}
    assert not outage["published"], outage["published"]
    # Exactly once, counted where it lands.
    assert not found.lost, found.lost
    assert not found.duplicated, found.duplicated
    assert found.decided == landed.accepted
