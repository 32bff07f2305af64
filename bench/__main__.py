"""`make bench`: the whole hub on the real stack, measured against the bare transport. Asserts nothing.

The hub runs as processes (four services, three simulated agencies answering at once) on the real Kafka
broker and store; the benchmark acts as referrer, screener and MASH manager at machine speed.

1. National rate: contacts offered at a fixed rate (default 0.28 a second, about 8,200 in an 8-hour
   working day) for a short window, each carried through the whole machine: contact to decision-ready,
   contact to hand-off sent.
2. Front door at saturation: N contacts POSTed, C in flight: 202 latency and accepted contacts a second;
   then intake to case file: how fast the desk has opened a case file for every one of them.
3. Full machine cycle at saturation: M contacts carried through the whole machine at once.
4. CPU-seconds per contact per service (each stage), and memory (RSS) per service.
5. The bare transport: plain aiokafka producing and consuming as many messages, of the same mean size,
   as the hub published in stages 2 and 3, on the same broker; the hub's figures as ratios to it.
6. The bare store: plain PyMongo (async) on the same MongoDB server: single inserts, updates conditional
   on a version, and bulk writes of the sizes intake's register import sends (bench.store); the hub's
   figures as ratios to it too.

Figures go to stdout (Markdown), to <out>/<label>.json, and as PNGs (throughput over time, latency CDFs)
to <out>/; `python -m bench.plots` draws several runs' JSON side by side. `--profile DIR` samples every
service with py-spy for the whole run (DIR/<service>.txt, collapsed stacks: `flamegraph.pl`, speedscope).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from bench.cycle import CycleTimes, machine_cycle, varied
from bench.measure import Progress, cpu_seconds, load_average, percentile, rss_mib
from bench.plots import plot_run
from bench.store import StoreOp, measure_store
from bench.tap import Tap
from bench.transport import TransportFigures, measure_transport
from demo.client import HubClient
from demo.hub import SERVICES, AgencyOptions, Hub, HubConfig
from demo.kafka_access import KafkaAccess, authenticate_raw_clients
from demo.postbox import Postbox
from demo.scenarios import Scenario, load_scenarios, write_timescales

ROOT = Path(__file__).resolve().parents[1]


def _ms(values: list[float]) -> dict[str, float]:
    return {f"p{round(q * 100)}": percentile(values, q) * 1000 for q in (0.5, 0.95, 0.99)}


class Meter:
    """CPU-seconds of every service process between two moments."""

    def __init__(self, hub: Hub) -> None:
        self._pids = {name: process.proc.pid for name, process in hub.services.items() if process.proc}
        self._start = self._now()

    def _now(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def used(self) -> dict[str, float]:
        """CPU-seconds each service used since the meter started."""
        now = self._now()
        return {name: now[name] - self._start[name] for name in self._pids}


def _cycles(times: list[CycleTimes]) -> dict[str, Any]:
    return {
        "accepted_ms": _ms([t.accepted for t in times]),
        "decision_ready_ms": _ms([t.decision_ready for t in times]),
        "handed_off_ms": _ms([t.handed_off for t in times]),
        "samples": [asdict(t) for t in times],
    }


async def national_rate(client: HubClient, tap: Tap, cases: AsyncCollection[dict[str, Any]], scenario: Scenario,
                        rate: float, window: float, progress: Progress) -> tuple[list[CycleTimes], float]:
    """Offer contacts at `rate` a second for `window` seconds, each carried to its hand-off."""
    count = max(1, round(rate * window))
    progress.stage(f"national rate ({rate:g}/s, {count})", count)
    done: list[CycleTimes] = []
    started = time.perf_counter()

    async def one(n: int) -> None:
        await asyncio.sleep(n / rate)  # an open-loop schedule of arrivals
        done.append(await machine_cycle(client, tap, cases, scenario, 10_000 + n))
        progress.update(len(done))

    await asyncio.gather(*(one(n) for n in range(count)))
    return done, time.perf_counter() - started


async def front_door(client: HubClient, scenario: Scenario, count: int, in_flight: int,
                     progress: Progress) -> tuple[list[str], list[float], list[float], float]:
    """POST `count` contacts, `in_flight` at a time: ids, 202 latencies, acceptance moments, seconds."""
    progress.stage(f"front door ({count}, {in_flight} in flight)", count)
    latencies: list[float] = []
    accepted_at: list[float] = []
    ids: list[str] = []
    gate = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        async with gate:
            began = time.perf_counter()
            response = await client.submit_contact(varied(scenario.contact, n), idempotency_key=f"bench-{uuid.uuid4()}")
            now = time.perf_counter()
            response.raise_for_status()
            latencies.append(now - began)
            accepted_at.append(now)
            ids.append(response.json()["referral_id"])
            progress.update(len(ids))

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return ids, latencies, accepted_at, time.perf_counter() - started


async def case_files_open(mongo: AsyncMongoClient[dict[str, Any]], hub: Hub, expected: int,
                          door_done: asyncio.Event, progress: Progress) -> list[tuple[float, int]]:
    """Count the desk's case files every 0.1 s, from the first POST until `expected` are open.

    Runs alongside the front door, so the samples show case files opening while contacts still arrive;
    returns (moment, count) samples.
    """
    cases = mongo[hub.database("decision")]["case_files"]
    samples: list[tuple[float, int]] = []
    deadline = time.perf_counter() + 900
    staged = False
    while time.perf_counter() < deadline:
        count = await cases.count_documents({})
        samples.append((time.perf_counter(), count))
        if door_done.is_set():
            if not staged:
                progress.stage("intake -> case file", expected)
                staged = True
            progress.update(count)
        if count >= expected:
            return samples
        await asyncio.sleep(0.1)  # a sampling interval: the samples are the throughput-over-time figure
    raise TimeoutError(f"only {samples[-1][1]} of {expected} case files opened")


async def saturated_cycles(client: HubClient, tap: Tap, cases: AsyncCollection[dict[str, Any]], scenario: Scenario,
                           count: int, progress: Progress) -> tuple[list[CycleTimes], float]:
    """Carry `count` contacts through the whole machine all at once (watching each at most 4 times a second)."""
    progress.stage(f"full cycle at saturation ({count})", count)
    done: list[CycleTimes] = []
    started = time.perf_counter()

    async def one(n: int) -> None:
        done.append(await machine_cycle(client, tap, cases, scenario, 20_000 + n, poll_ceiling=0.25))
        progress.update(len(done))

    await asyncio.gather(*(one(n) for n in range(count)))
    return done, time.perf_counter() - started


def start_profilers(hub: Hub, directory: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each service process until stopped (SIGINT makes it write its file)."""
    directory.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).with_name("py-spy")
    return [
        subprocess.Popen(  # noqa: S603 - the dev group's py-spy on our own processes
            [str(py_spy), "record", "--pid", str(process.proc.pid), "--rate", "50", "--format", "raw",
             "--nonblocking", "--output", str(directory / f"{name}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, process in hub.services.items() if process.proc
    ]


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    """Ask each py-spy to write its samples, and wait for it."""
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        try:
            profiler.wait(timeout=60)
        except subprocess.TimeoutExpired:
            profiler.kill()


def _per_contact(used: dict[str, float], contacts: int) -> dict[str, float]:
    return {name: seconds / contacts for name, seconds in used.items()}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every stage; returns the figures."""
    kafka = os.environ.get("MASH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    mongo_url = os.environ.get("MASH_MONGO_URL", "mongodb://127.0.0.1:27017")
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = ROOT / "demo-output" / namespace
    scenario = next(s for s in load_scenarios() if s.key == "quiet-worry")
    progress = Progress()
    result: dict[str, Any] = {
        "label": args.label, "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": load_average(), "cores": os.cpu_count(),
        "settings": {k: v for k, v in vars(args).items() if k not in {"out", "profile"}},
    }
    async with Postbox().running() as postbox:
        hub = Hub(HubConfig(
            kafka_bootstrap=kafka, mongo_url=mongo_url, namespace=namespace, workdir=workdir,
            agencies={name: AgencyOptions(delay="0-0") for name in scenario.agencies},
            ready_timeout=300.0,  # five services start at once; on a crowded machine that takes minutes
            service_env={service: {"MASH_CONSUMER_WORKERS": str(args.consumer_workers),
                                   "MASH_CONSUMER_BATCH": str(args.consumer_batch),
                                   "MASH_CONSUMER_BATCH_LINGER_MS": str(args.consumer_batch_linger_ms),
                                   **env} for service, env in {
                # One client address sends every contact: lift the front door's per-client rate limit.
                "intake": {"MASH_INTAKE_CONTACTS_PER_MINUTE": "1000000", "MASH_INTAKE_CONTACTS_BURST": "100000"},
                "decision": {"MASH_DECISION_TIMESCALES_FILE": str(write_timescales(workdir / "t.yaml", 300))},
                "enquiry": {},
                "notify": {**postbox.notify_env(postbox.write_recipients(workdir / "recipients.yaml")),
                           "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": str(args.notify_sweep)},
                "insight": {},
            }.items()},
        ))
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        # A starved service answers late (the figures say so); a connection per request, because a client slow to
        # read a response can reuse a connection uvicorn is just closing (see demo.client).
        client = HubClient(hub, timeout=120.0, keepalive=False)
        tap = Tap(kafka, namespace)
        profilers: list[subprocess.Popen[bytes]] = []
        try:
            progress.stage("starting the hub", 1)
            started = time.perf_counter()
            await hub.start()
            result["hub_start_seconds"] = time.perf_counter() - started
            progress.update(1, force=True)
            if args.profile is not None:
                profilers = start_profilers(hub, args.profile)
            cases = mongo[hub.database("decision")]["case_files"]
            async with tap.running():
                # A first contact through the whole machine warms every path (imports, connections).
                await machine_cycle(client, tap, cases, scenario, 0)

                meter = Meter(hub)
                times, seconds = await national_rate(client, tap, cases, scenario, args.rate, args.window, progress)
                result["national"] = {"rate": args.rate, "contacts": len(times), "seconds": seconds,
                                      **_cycles(times), "cpu_per_contact": _per_contact(meter.used(), len(times))}

                meter = Meter(hub)
                door_began = time.perf_counter()
                door_done = asyncio.Event()
                counting = asyncio.create_task(
                    case_files_open(mongo, hub, args.contacts + len(times) + 1, door_done, progress))
                ids, latencies, accepted_at, seconds = await front_door(
                    client, scenario, args.contacts, args.in_flight, progress)
                door_done.set()
                opened = await counting
                desk_seconds = opened[-1][0] - door_began
                result["front_door"] = {
                    "contacts": len(ids), "in_flight": args.in_flight, "seconds": seconds,
                    "accepted_per_second": len(ids) / seconds, "latency_ms": _ms(latencies),
                    "latencies": latencies, "accepted_at": [t - door_began for t in accepted_at],
                }
                result["case_files"] = {
                    "seconds": desk_seconds, "per_second": len(ids) / desk_seconds,
                    "samples": [(t - door_began, n - len(times) - 1) for t, n in opened],
                    "cpu_per_contact": _per_contact(meter.used(), len(ids)),
                }
                door_events = tap.count(door_began, opened[-1][0])

                meter = Meter(hub)
                cycle_began = time.perf_counter()
                times, seconds = await saturated_cycles(client, tap, cases, scenario, args.cycles, progress)
                result["saturation"] = {
                    "contacts": len(times), "seconds": seconds, "cycles_per_second": len(times) / seconds,
                    **_cycles(times), "cpu_per_contact": _per_contact(meter.used(), len(times)),
                    "handed_off_at": sorted(t.handed_off for t in times),
                }
                cycle_events = tap.count(cycle_began)
                result["events"] = {"front_door": door_events, "saturation": cycle_events,
                                    "per_cycle": cycle_events / max(1, len(times)),
                                    "mean_size": tap.mean_size(door_began)}
                result["cpu_per_event_ms"] = {
                    "front_door": 1000 * sum(result["case_files"]["cpu_per_contact"].values()) * len(ids)
                    / max(1, door_events),
                    "saturation": 1000 * sum(result["saturation"]["cpu_per_contact"].values()) * len(times)
                    / max(1, cycle_events),
                }
            result["rss_mib"] = {name: rss_mib(process.proc.pid) for name, process in hub.services.items()
                                 if process.proc}
        finally:
            progress.finish()
            stop_profilers(profilers)
            await client.close()
            hub.stop()
            await mongo.close()

    messages = result["events"]["front_door"] + result["events"]["saturation"]
    progress.stage("bare transport (aiokafka)", messages)
    transport = await measure_transport(kafka, messages=messages, size=round(result["events"]["mean_size"]),
                                        partitions=3, probes=50, progress=progress)
    progress.finish()
    result["transport"] = _transport(transport)
    store = await measure_store(mongo_url, ops=args.store_ops, size=round(result["events"]["mean_size"]),
                                bulk_sizes=args.store_bulk_sizes, progress=progress)
    progress.finish()
    result["store"] = {op.name: _store_op(op) for op in store}
    result["load_after"] = load_average()
    return result


def _transport(figures: TransportFigures) -> dict[str, Any]:
    return {"messages": figures.messages, "size": figures.size, "seconds": figures.seconds,
            "per_second": figures.per_second, "cpu_ms_per_message": figures.cpu_ms_per_message,
            "latency_ms": {f"p{round(q * 100)}": figures.latency_ms(q) for q in (0.5, 0.95, 0.99)},
            "latencies": figures.latencies}


def _store_op(op: StoreOp) -> dict[str, Any]:
    return {"count": op.count, "documents": op.documents, "seconds": op.seconds, "per_second": op.per_second,
            "documents_per_second": op.per_second * op.documents, "cpu_ms_per_op": op.cpu_ms_per_op,
            "latency_ms": {f"p{round(q * 100)}": op.latency_ms(q) for q in (0.5, 0.95, 0.99)},
            "latencies": op.latencies}


def report(r: dict[str, Any]) -> str:
    """The figures as Markdown, the hub's as ratios to the bare transport and the bare store where that means
    something (a run saved before the store was measured has no store columns' figures)."""
    t = r["transport"]
    store = r.get("store", {})
    insert, update = store.get("insert_one"), store.get("update_one on a version")
    door, cases, national, sat = r["front_door"], r["case_files"], r["national"], r["saturation"]

    def pct(block: dict[str, float], digits: int = 0) -> str:
        return f"p50 {block['p50']:.{digits}f} ms, p95 {block['p95']:.{digits}f} ms, p99 {block['p99']:.{digits}f} ms"

    def cpu(block: dict[str, float]) -> str:
        return ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in block.items())

    def ratio(hub: float, floor: dict[str, Any] | None, key: str, form: str) -> str:
        return format(hub / floor[key], form) if floor else ""

    def per_second(op: dict[str, Any] | None, op_name: str) -> str:
        return f"{op['per_second']:.0f} op/s {op_name}" if op else ""

    def op_p50(op: dict[str, Any] | None) -> str:
        return f"one update_one p50 {op['latency_ms']['p50']:.2f} ms" if op else ""

    def op_cpu(op: dict[str, Any] | None) -> str:
        return f"{op['cpu_ms_per_op']:.3f} ms/update" if op else ""

    def p50_ratio(hub: float, op: dict[str, Any] | None) -> str:
        return f"{hub / op['latency_ms']['p50']:.0f}x (p50)" if op else ""

    def ops(op: dict[str, Any]) -> str:
        return f"{op['count']} ops" if op["documents"] == 1 else f"{op['count']} ops of {op['documents']} documents"

    store_rows = [
        f"| store: {name} ({ops(op)}) | | | | {op['per_second']:.0f} op/s "
        f"({op['documents_per_second']:.0f} documents/s); "
        f"{op['cpu_ms_per_op']:.3f} ms CPU/op; one op {pct(op['latency_ms'], 2)} | |"
        for name, op in store.items()
    ]
    lines = [
        f"## {r['label']} — {r['when']}",
        f"Load average before {r['load_before']}, after {r['load_after']} ({r['cores']} cores); "
        f"hub started in {r['hub_start_seconds']:.1f} s.",
        "",
        "| stage | hub | bare transport | hub ÷ transport | bare store | hub ÷ store |",
        "|---|---|---|---|---|---|",
        f"| transport: {t['messages']} messages of {t['size']} B, produced and consumed | | "
        f"{t['per_second']:.0f} msg/s; {t['cpu_ms_per_message']:.3f} ms CPU/msg; one message "
        f"{pct(t['latency_ms'])} | | | |",
        *store_rows,
        f"| front door: {door['contacts']} contacts, {door['in_flight']} in flight | "
        f"{door['accepted_per_second']:.1f} accepted/s; 202 {pct(door['latency_ms'])} | "
        f"{t['per_second']:.0f} msg/s | {door['accepted_per_second'] / t['per_second']:.4f} | "
        f"{per_second(insert, 'insert_one')} | {ratio(door['accepted_per_second'], insert, 'per_second', '.4f')} |",
        f"| intake → case file | {cases['per_second']:.1f} referrals/s | {t['per_second']:.0f} msg/s | "
        f"{cases['per_second'] / t['per_second']:.4f} | {per_second(update, 'update_one')} | "
        f"{ratio(cases['per_second'], update, 'per_second', '.4f')} |",
        f"| national rate {national['rate']:g}/s, {national['contacts']} contacts: contact → decision-ready | "
        f"{pct(national['decision_ready_ms'])} | one message p50 {t['latency_ms']['p50']:.1f} ms | "
        f"{national['decision_ready_ms']['p50'] / t['latency_ms']['p50']:.0f}x (p50) | "
        f"{op_p50(update)} | {p50_ratio(national['decision_ready_ms']['p50'], update)} |",
        f"| national rate: contact → hand-off sent | {pct(national['handed_off_ms'])} | | | | |",
        f"| saturation, {sat['contacts']} at once: contact → decision-ready | {pct(sat['decision_ready_ms'])} "
        f"| | | | |",
        f"| saturation: contact → hand-off sent | {pct(sat['handed_off_ms'])}; "
        f"{sat['cycles_per_second']:.2f} cycles/s | | | | |",
        f"| services' CPU per event (all services), front door stage | "
        f"{r['cpu_per_event_ms']['front_door']:.2f} ms | {t['cpu_ms_per_message']:.3f} ms | "
        f"{r['cpu_per_event_ms']['front_door'] / t['cpu_ms_per_message']:.0f}x | {op_cpu(update)} | "
        f"{ratio(r['cpu_per_event_ms']['front_door'], update, 'cpu_ms_per_op', '.0f')}{'x' if update else ''} |",
        f"| services' CPU per event (all services), full cycle ({r['events']['per_cycle']:.1f} events a cycle) | "
        f"{r['cpu_per_event_ms']['saturation']:.2f} ms | {t['cpu_ms_per_message']:.3f} ms | "
        f"{r['cpu_per_event_ms']['saturation'] / t['cpu_ms_per_message']:.0f}x | {op_cpu(update)} | "
        f"{ratio(r['cpu_per_event_ms']['saturation'], update, 'cpu_ms_per_op', '.0f')}{'x' if update else ''} |",
        "",
        "CPU-milliseconds per contact, per service:",
        f"- national rate (includes idle work: sweeps, clocks, consumer polling): {cpu(national['cpu_per_contact'])}",
        f"- front door and intake → case file: {cpu(cases['cpu_per_contact'])}",
        f"- full cycle at saturation: {cpu(sat['cpu_per_contact'])}",
        "",
        "Memory (RSS) after the run: " + ", ".join(f"{n} {m:.0f} MiB" for n, m in r["rss_mib"].items()),
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run, print, save."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=200, help="front door at saturation (N)")
    parser.add_argument("--in-flight", type=int, default=20, help="POSTs in flight at the front door (C)")
    parser.add_argument("--cycles", type=int, default=30, help="full cycles at saturation, all at once (M)")
    parser.add_argument("--rate", type=float, default=0.28, help="national rate, contacts a second")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of contacts at the national rate")
    parser.add_argument("--notify-sweep", type=float, default=0.1, help="notify's delivery sweep, seconds")
    parser.add_argument("--consumer-workers", type=int, default=1,
                        help="consumers per subscription in each service (MASH_CONSUMER_WORKERS; up to partitions)")
    parser.add_argument("--consumer-batch", type=int, default=1,
                        help="records each subscription takes at once (MASH_CONSUMER_BATCH; 1: one at a time)")
    parser.add_argument("--consumer-batch-linger-ms", type=int, default=10,
                        help="an idle batch subscription's poll wait (MASH_CONSUMER_BATCH_LINGER_MS)")
    parser.add_argument("--store-ops", type=int, default=500,
                        help="bare store: insert_one and version-conditional update_one operations, each")
    parser.add_argument("--store-bulk-sizes", type=lambda text: [int(n) for n in text.split(",")],
                        default=[20, 1000], help="bare store: bulk_write sizes, comma-separated (the demo's "
                        "register is 18 people; a county's, thousands)")
    parser.add_argument("--label", default="latest", help="names the JSON and PNG files")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark", help="where figures go")
    parser.add_argument("--profile", type=Path, default=None, help="sample every service with py-spy into DIR")
    args = parser.parse_args()
    access = KafkaAccess.from_environment()
    if access is not None:  # the bench's own taps and the bare-transport run read and write as the operator
        authenticate_raw_clients(access)
    assert set(SERVICES) >= {"intake", "decision", "enquiry", "notify"}
    result = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.label}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    for path in plot_run(result, args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(report(result))


if __name__ == "__main__":
    main()
