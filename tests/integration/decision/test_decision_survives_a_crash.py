"""A decision is published exactly once even when the service dies between storing it and publishing it.

The decision service runs as a real OS process (demo.hub). It is started normally to open and screen the
case, then restarted under tests.support.crash_before_publish, so that the first thing its
relay would publish is the decision: the decision and its outbox entry are stored, and the process then
exits with 137 before publishing, as if killed. Restarted normally, the relay finds the entry and publishes
it: exactly one decision.made reaches the topic, and a client's retry of the POST records nothing new.

The write wakes the relay at once, so the relay (which dies) races the HTTP answer (sent after the audit
record is written): the POST is answered 202 or the connection drops with the process. Both are what a
real crash at that moment looks like to a client; either way the decision must already be stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from mash_schemas import BragRating
from mash_schemas.envelope import derived_event_id
from mash_schemas.topics import DECISION_MADE, REFERRAL_RECEIVED

from demo.hub import Hub, HubConfig
from demo.scenarios import NOT_YET_SOUGHT
from tests.integration.decision.desk_harness import (
    desk_over_http,
    desk_settings,
    of_referral,
    referral,
    referral_received,
    topic_events,
)
from tests.support.infrastructure import Infrastructure

CRASH_BEFORE_PUBLISH = "tests.support.crash_before_publish"


async def test_a_decision_stored_before_a_crash_is_published_once_after_restart(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path
) -> None:
    hub = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                        namespace=namespace, workdir=tmp_path))
    settings = desk_settings(infrastructure, namespace, mongo_database=hub.database("decision"))
    try:
        await hub.start_service("decision")
        async with desk_over_http(settings, hub.url("decision")) as desk:
            quiet_worry = referral("scenario-5-quiet-worry.json", rating=BragRating.GREEN)
            rid = quiet_worry.referral_id
            await desk.publish(REFERRAL_RECEIVED, referral_received(quiet_worry))
            await desk.case_in(rid, "awaiting_screening")
            assert (await desk.step(rid, "screening", {"rating": "green", "childs_voice": NOT_YET_SOUGHT},
                                         as_=desk.screener)).status_code == 200

            # restart with the fault: the decision is the first event this process would publish
            hub.services["decision"].stop()
            await hub.start_service("decision", wrapper=CRASH_BEFORE_PUBLISH)
            decision = {"outcome": "early_help", "rationale": "Low-level worry; Early Help can support the mother."}
            try:
                decided = await desk.step(rid, "decision", decision)
            except httpx.RemoteProtocolError:
                answered = None  # the process died before answering
            else:
                answered = decided.status_code
            crashed = hub.services["decision"]
            assert await asyncio.to_thread(crashed.wait_exit, 60) == 137
            assert answered in (202, None)

            stored = await desk.case_files.find_one({"_id": rid})
            assert stored is not None
            assert stored["state"] == "decided"
            assert [entry["event_type"] for entry in stored["_outbox"]] == ["decision.made"]
            assert of_referral(await topic_events(desk.bootstrap, desk.topic(DECISION_MADE)), rid) == []

            # restarted normally: the relay publishes what was stored, once
            await hub.start_service("decision")
            [made] = await desk.events(DECISION_MADE, rid)
            assert made["event_id"] == str(derived_event_id(f"DEC-{rid}", "made"))
            assert made["payload"]["outcome"] == "early_help"
            assert made["payload"]["decided_by"] == "Mo Patel (MASH manager)"
            assert (await desk.case(rid)).json()["case_file"]["state"] == "decided"
            # the client, unsure whether its POST landed, sends it again: refused, nothing new published
            retried = await desk.step(rid, "decision", decision)
            assert retried.status_code == 409
            assert "was decided by Mo Patel (MASH manager)" in retried.json()["message"]
            assert len(await desk.events(DECISION_MADE, rid)) == 1
            actions = [r["action"] for r in await desk.audit(rid) if r["action"] != "view_case_file"]
            assert actions == ["screen", "decide"]
    finally:
        hub.stop()
