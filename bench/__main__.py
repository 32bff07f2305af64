"""`make bench`: the whole hub on the real stack, measured. Prints figures; asserts nothing about speed.

1. Front door: N contacts POSTed with C in flight; 202 latency and accepted contacts per second.
2. Referral to case file: how fast the decision service has opened a case file for every one of them.
3. Full cycle: M scenarios carried from contact to decision (screening, enquiry to 3 agencies, decision)
   and until notify has delivered their hand-offs.
4. Memory: resident set size of each service process afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from demo.client import HubClient
from demo.hub import AgencyOptions, Hub, HubConfig
from demo.postbox import Postbox
from demo.scenarios import carry, load_scenarios, write_timescales
from demo.waiting import eventually


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _varied(contact: dict[str, Any], n: int) -> dict[str, Any]:
    varied = copy.deepcopy(contact)
    for subject in varied["subjects"]:
        subject["subject_id"] = f"{subject['subject_id']}-{n}"
        subject["family_name"] = f"{subject['family_name']}{n}"
        subject.pop("nhs_number", None)
    return varied


async def front_door(
    client: HubClient, contact: dict[str, Any], count: int, in_flight: int
) -> tuple[list[str], dict[str, float]]:
    """POST `count` contacts, `in_flight` at a time."""
    latencies: list[float] = []
    ids: list[str] = []
    gate = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        async with gate:
            started = time.perf_counter()
            response = await client.submit_contact(_varied(contact, n), idempotency_key=f"bench-{uuid.uuid4()}")
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            ids.append(response.json()["referral_id"])

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    elapsed = time.perf_counter() - started
    return ids, {"seconds": elapsed, "per_second": count / elapsed, "p50_ms": _percentile(latencies, 0.5) * 1000,
                 "p95_ms": _percentile(latencies, 0.95) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000}


async def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=30)
    args = parser.parse_args()
    kafka = os.environ.get("MASH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    mongo_url = os.environ.get("MASH_MONGO_URL", "mongodb://127.0.0.1:27017")
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = Path("demo-output") / namespace
    scenario = next(s for s in load_scenarios() if s.key == "quiet-worry")
    async with Postbox().running() as postbox:
        hub = Hub(HubConfig(
            kafka_bootstrap=kafka, mongo_url=mongo_url, namespace=namespace, workdir=workdir,
            agencies={name: AgencyOptions(delay="0-0.05") for name in scenario.agencies},
            service_env={
                "decision": {"MASH_DECISION_TIMESCALES_FILE": str(write_timescales(workdir / "t.yaml", 60))},
                "notify": {**postbox.notify_env(postbox.write_recipients(workdir / "recipients.yaml")),
                           "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.2"},
            },
        ))
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        try:
            started = time.perf_counter()
            await hub.start()
            print(f"hub started in {time.perf_counter() - started:.1f}s (namespace {namespace})")
            client = HubClient(hub)

            first_post = time.perf_counter()
            ids, door = await front_door(client, scenario.contact, args.contacts, args.in_flight)
            print(f"1. front door: {args.contacts} contacts, {args.in_flight} in flight: {door['per_second']:.1f} "
                  f"accepted/s; 202 latency p50 {door['p50_ms']:.0f} ms, p95 {door['p95_ms']:.0f} ms, "
                  f"p99 {door['p99_ms']:.0f} ms")

            cases = mongo[hub.database("decision")]["case_files"]

            async def all_open() -> bool:
                return await cases.count_documents({}) >= len(ids)

            await eventually(all_open, timeout=600, interval=0.25, what="every case file opened")
            desk_seconds = time.perf_counter() - first_post
            print(f"2. referral to case file: all {len(ids)} case files open {desk_seconds:.1f}s after the first "
                  f"POST: {len(ids) / desk_seconds:.1f} referrals/s through intake, Kafka and the desk")

            cycle_started = time.perf_counter()
            timings: list[float] = []

            async def cycle() -> str:
                began = time.perf_counter()
                carried = await carry(client, scenario, enquiry_timeout=300)
                timings.append(time.perf_counter() - began)
                return carried.referral_id

            decided = await asyncio.gather(*(cycle() for _ in range(args.cycles)))
            deliveries = mongo[hub.database("notify")]["deliveries"]

            async def handed_off() -> bool:
                sent = await deliveries.count_documents({"referral_id": {"$in": decided}, "kind": "handoff",
                                                         "status": "sent"})
                return sent >= len(decided)

            await eventually(handed_off, timeout=300, interval=0.25, what="every hand-off delivered")
            cycle_seconds = time.perf_counter() - cycle_started
            print(f"3. full cycle: {args.cycles} contacts carried concurrently through screening, an enquiry to "
                  f"{len(scenario.agencies)} agencies and a decision: contact to decision p50 "
                  f"{statistics.median(timings):.1f}s, p95 {_percentile(timings, 0.95):.1f}s; all hand-offs "
                  f"delivered {cycle_seconds:.1f}s after the first contact")
            rss = {name: _rss_mib(process.proc.pid) for name, process in hub.services.items() if process.proc}
            print("4. memory (RSS): " + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in rss.items()))
            await client.close()
        finally:
            hub.stop()
            await mongo.close()


if __name__ == "__main__":
    asyncio.run(main())
