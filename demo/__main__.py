"""`make demo`: run the hub on the real stack and put realistic work through it.

Starts the local identity provider, the four services, the simulated agencies and the workspace as
processes, sends the police feed's routine notifications, carries the eight SCENARIOS.md cases from
contact to hand-off as hub staff would, and prints each outcome and a summary; then runs two councils'
hubs side by side (Westshire and Eastshire, demo/region_scenario.py; MASH_DEMO_REGION=0 leaves this out);
then prints the workspace's address and the demo sign-ins. Run from a terminal, it keeps the hub running
for you to click through until Ctrl-C (MASH_DEMO_KEEP_RUNNING=0 ends it at once). Logs, spans and every
email go to demo-output/.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.client import HubClient
from demo.hub import Hub, HubConfig
from demo.postbox import Postbox
from demo.region_scenario import across_the_boundary, two_hub_part
from demo.scenarios import (
    DEMO_DIR,
    CarriedCase,
    agencies_for,
    carry,
    load_scenarios,
    send_police_notification,
    write_timescales,
)
from demo.waiting import eventually

OIDC_USERS = Path(__file__).resolve().parents[1] / "infra" / "oidc" / "users.yaml"

ENQUIRY_WINDOW_SECONDS = 45.0
FAMILY_THAT_MOVES = 8  # SCENARIOS #8: known to Eastshire, then the police find the family in Westshire


async def _feed_routine_notifications(hub: Hub) -> list[str]:
    ids = []
    for path in sorted((DEMO_DIR / "police").glob("routine-*.json")):
        notification = json.loads(path.read_text(encoding="utf-8"))
        notification["notification_id"] = f"{notification['notification_id']}-{hub.config.namespace[-6:]}"
        ids.append(await send_police_notification(hub.config.kafka_bootstrap, hub.config.namespace, notification))
    return ids


async def _timed(client: HubClient, scenario: Any) -> tuple[CarriedCase, float]:
    started = time.monotonic()
    carried = await carry(client, scenario, enquiry_timeout=ENQUIRY_WINDOW_SECONDS + 60)
    return carried, time.monotonic() - started


def _print_case(carried: CarriedCase, seconds: float, handoff: str | None) -> None:
    scenario, decision = carried.scenario, carried.decision
    print(f"\n#{scenario.number} {scenario.title}  [{carried.referral_id}]")
    print(f"   suggested {carried.suggested_rating} -> decided {decision['rating']}: {decision['outcome']} "
          f"-> {decision['receiving_service']}  ({seconds:.1f}s contact to decision)")
    if carried.recommendation:
        for reason in carried.recommendation["reasons"][:4]:
            print(f"   · {reason}")
    if carried.not_answered:
        print(f"   did not answer in time: {', '.join(carried.not_answered)}")
    if handoff:
        lines = [line for line in handoff.splitlines() if line.strip()][:14]
        print("   hand-off (as emailed):")
        for line in lines:
            print(f"   | {line[:110]}")


async def main() -> int:
    """Run the demo; returns the process exit code."""
    kafka = os.environ.get("MASH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    mongo = os.environ.get("MASH_MONGO_URL", "mongodb://127.0.0.1:27017")
    namespace = f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    workdir = Path("demo-output") / namespace
    scenarios = load_scenarios()
    async with Postbox().running() as postbox:
        config = HubConfig(
            kafka_bootstrap=kafka, mongo_url=mongo, namespace=namespace, workdir=workdir,
            agencies=agencies_for(scenarios),
            people=True,
            service_env={
                # The child's voice is required for a decision (issue 23): the scenarios record it at screening.
                "decision": {"MASH_DECISION_TIMESCALES_FILE": str(
                    write_timescales(workdir / "timescales.yaml", ENQUIRY_WINDOW_SECONDS)),
                    "MASH_DECISION_REQUIRE_CHILDS_VOICE": "true"},
                "notify": {**postbox.notify_env(postbox.write_recipients(workdir / "recipients.yaml")),
                           "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.3"},
                "intake": {"MASH_INTAKE_REGISTER_FILE": str(DEMO_DIR / "register.csv")},
                # Insight reports on the desk's own timescales file.
                "insight": {"MASH_INSIGHT_TIMESCALES_FILE": str(workdir / "timescales.yaml")},
            },
        )
        hub = Hub(config)
        print(f"Starting the hub (namespace {namespace}); logs, spans and mail in {workdir}/ ...")
        started = time.monotonic()
        try:
            await hub.start()
            print(f"Hub ready in {time.monotonic() - started:.1f}s: intake {hub.url('intake')}, "
                  f"decision {hub.url('decision')}, enquiry {hub.url('enquiry')}, notify {hub.url('notify')}")
            client = HubClient(hub)
            routine = await _feed_routine_notifications(hub)
            print(f"Police feed: {len(routine)} routine notifications sent; carrying {len(scenarios)} scenarios "
                  f"(enquiry windows {ENQUIRY_WINDOW_SECONDS:.0f}s, so the silent agency's case waits that long)...")
            results = await asyncio.gather(*(_timed(client, s) for s in scenarios))
            referral_ids = [c.referral_id for c, _ in results]

            async def all_delivered() -> list[dict[str, Any]] | None:
                found = [d for r in referral_ids for d in await client.deliveries(referral_id=r)]
                return found if found and all(d["status"] != "queued" for d in found) else None

            deliveries = await eventually(all_delivered, timeout=90, interval=0.5, what="deliveries settled")
            for carried, seconds in sorted(results, key=lambda r: r[0].scenario.number):
                handoff = next((m.body for m in postbox.mail if carried.referral_id in m.subject
                                and "hand-off" in m.subject.lower()), None)
                _print_case(carried, seconds, handoff if carried.scenario.number in (1, 4) else None)
            kept = 0
            for referral_id in routine:
                status = await _contact_status(hub, referral_id)
                kept += status == "kept_as_information"
            referred_by_police = sum(c.scenario.arrives_as == "police_notification" for c, _ in results)
            _summary(results, deliveries, len(routine) + referred_by_police, kept, postbox)
            await _print_figures(hub, client, len(results))
            await client.close()
            if os.environ.get("MASH_DEMO_REGION", "1") != "0":  # issue 20: two councils' hubs side by side
                family = next(s for s in scenarios if s.number == FAMILY_THAT_MOVES)
                await two_hub_part(kafka, mongo, workdir / "region", namespace, family,
                                   more_steps=across_the_boundary(family))
            _print_workspace(hub)
            if sys.stdin.isatty() and os.environ.get("MASH_DEMO_KEEP_RUNNING", "1") != "0":
                print("\nThe hub keeps running for you to click through: press Ctrl-C to stop it.")
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
        finally:
            hub.stop()
    print(f"\nDone. Stop the stack with `make down`. Everything the hub wrote is in {workdir}/.")
    return 0


async def _print_figures(hub: Hub, client: HubClient, decided: int) -> None:
    """The day's figures as insight serves them, once it has read every decision from the topics."""
    import httpx

    async with httpx.AsyncClient(base_url=hub.url("insight"), headers=client.analyst, timeout=30) as insight:
        async def performance() -> dict[str, Any] | None:
            report: dict[str, Any] = (await insight.get("/figures/performance", params={"by": "day"})).json()
            return report if report["total"]["decided"] >= decided else None

        today = (await eventually(performance, timeout=60, interval=0.5, what="insight has every decision"))["total"]
        agencies = (await insight.get("/figures/agencies")).json()
        rising = (await insight.get("/figures/rising-concern")).json()["families"]
    times = today["decision_times"]
    print("\nThe day's figures (insight, from the event stream; docs/insight.md defines each)")
    print(f"  contacts                       : {today['contacts']} "
          f"({', '.join(f'{k} {v}' for k, v in today['by_source'].items())})")
    print(f"  decided                        : {today['decided']}; to children's social care {today['to_social_care']} "
          f"({today['to_social_care_percent']}%), to early help {today['to_early_help']} "
          f"({today['to_early_help_percent']}%)")
    print(f"  contact to decision            : median {times['median_working_hours']} working hours; "
          f"{times['within_one_working_day']} within one working day, {times['within_target']} within the "
          f"rating's target, {times['late']} late")
    print(f"  re-referrals within 12 months  : {today['re_referrals']}")
    print(f"  police notifications           : {today['police_notifications']} received, "
          f"{today['police_referrals']} became contacts")
    for row in agencies["agencies"]:
        print(f"  agency {row['agency']:<24}: asked {row['asked']}, in time {row['answered_in_time']}, "
              f"late {row['answered_late']}, silent {row['silent']}, "
              + (f"median {row['median_response_working_hours']} working hours"
                 if row["median_response_working_hours"] is not None else "no answer to time"))
    print(f"  rising concern                 : {len(rising)} families to look at (a prompt, not a decision)")
    print(f"  on the workspace               : {hub.workspace_url}/insight (analysts and managers)")


def _print_workspace(hub: Hub) -> None:
    import yaml

    users = yaml.safe_load(OIDC_USERS.read_text(encoding="utf-8"))["users"]
    print(f"\nThe workspace: {hub.workspace_url}  (sign in at {hub.workspace_url}/sign-in; the local identity "
          f"provider at {hub.oidc_issuer} asks no password: press a user's button)")
    print("  report a concern (no sign-in)  : " f"{hub.workspace_url}/report-a-concern")
    for name, claims in users.items():
        who = ", ".join(claims["roles"]) + (f" ({claims['agency']})" if claims.get("agency") else "")
        print(f"  {name:<32}: {who}")


async def _contact_status(hub: Hub, referral_id: str) -> str | None:
    from pymongo import AsyncMongoClient

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(hub.config.mongo_url)
    try:
        async def recorded() -> dict[str, Any] | None:
            return await mongo[hub.database("intake")]["contacts"].find_one({"_id": referral_id})

        doc = await eventually(recorded, timeout=30, what=f"police notification {referral_id} recorded")
        status: str = doc["status"]
        return status
    finally:
        await mongo.close()


def _summary(results: list[tuple[CarriedCase, float]], deliveries: list[dict[str, Any]], routine: int, kept: int,
             postbox: Postbox) -> None:
    ratings: dict[str, int] = {}
    for carried, _ in results:
        ratings[carried.decision["rating"]] = ratings.get(carried.decision["rating"], 0) + 1
    times = [seconds for _, seconds in results]
    sent = sum(d["status"] == "sent" for d in deliveries)
    print("\nSummary")
    print(f"  contacts carried to a decision : {len(results)} of {len(results)}")
    print(f"  police feed                    : {routine} notifications, {kept} kept as information, "
          f"{routine - kept} referred to the hub")
    print(f"  rating mix                     : {', '.join(f'{k} {v}' for k, v in sorted(ratings.items()))}")
    print(f"  contact to decision            : median {statistics.median(times):.1f}s, max {max(times):.1f}s")
    print(f"  deliveries                     : {sent} sent of {len(deliveries)}; "
          f"{len(postbox.mail)} emails and {len(postbox.hooks)} signed webhooks received")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
