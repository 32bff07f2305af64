"""A subject access request carried through all five services' real bootstraps on the real broker and store.

A contact comes in at intake's front door, the desk screens it and opens an enquiry, the police answer on the
portal with a shareable and a sealed item, the manager decides (notify queues the hand-off). Then the manager
starts a subject access request: intake, decision, enquiry, notify and insight each answer their part from
their own database, decision assembles them, and the export marks third parties and withholds the sealed
item until the police give permission. The sealed text is on no part, and the audit report of every service
lists the export. Every service runs in this process, each with its own database, in the test's namespace.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from mash_decision.bootstrap import bootstrap as decision_bootstrap
from mash_decision.settings import DecisionSettings
from mash_enquiry.bootstrap import bootstrap as enquiry_bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_insight.bootstrap import bootstrap as insight_bootstrap
from mash_insight.settings import InsightSettings
from mash_intake.bootstrap import bootstrap as intake_bootstrap
from mash_intake.settings import IntakeSettings
from mash_notify.bootstrap import bootstrap as notify_bootstrap
from mash_notify.settings import NotifySettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_runtime.settings import HubSettings
from mash_schemas.topics import SUBJECT_ACCESS_PART
from pymongo import AsyncMongoClient

from demo.scenarios import NOT_YET_SOUGHT
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually
from tests.unit.intake.intake_builders import submission_payload

pytestmark = pytest.mark.integration
SECRET = "SAR-MARKER: the mother's partner is under investigation for assault."
SERVICES: dict[str, tuple[Callable[..., Any], type[HubSettings]]] = {
    "intake": (intake_bootstrap, IntakeSettings), "decision": (decision_bootstrap, DecisionSettings),
    "enquiry": (enquiry_bootstrap, EnquirySettings), "notify": (notify_bootstrap, NotifySettings),
    "insight": (insight_bootstrap, InsightSettings),
}


@contextlib.asynccontextmanager
async def the_hub(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """All five services started in this process, each with its own database; an HTTP client on each."""
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for name, (bootstrap, settings_class) in SERVICES.items():
            settings = settings_class(environment="test", topic_namespace=namespace, log_level="WARNING",
                                      kafka_bootstrap=infrastructure.kafka_bootstrap,
                                      mongo_url=infrastructure.mongo_url, mongo_database=f"{namespace}_{name}",
                                      relay_poll_seconds=0.1)
            service = bootstrap(settings)
            await stack.enter_async_context(service.runtime.running(periodic_jobs=False))
            clients[name] = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=service.app), base_url=f"http://{name}", timeout=30))
        try:
            yield clients
        finally:
            mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
            for name in SERVICES:
                with contextlib.suppress(Exception):
                    await mongo.drop_database(f"{namespace}_{name}")
            await mongo.close()


def bearer(role: Role, who: str = "Max", agency: str | None = None) -> dict[str, str]:
    """A token for `who` in `role`, signed with the hub's development secret (every service shares it)."""
    secret = DecisionSettings(environment="test").jwt_secret.get_secret_value()
    return {"Authorization": f"Bearer {issue_token(secret, who, [role], agency=agency)}"}


async def ok(response: httpx.Response, expected: int = 200) -> Any:
    assert response.status_code == expected, response.text
    return response.json()


async def test_a_subject_access_request_gathers_a_part_from_every_service(
    infrastructure: Infrastructure, namespace: str
) -> None:
    recorder = TopicRecorder(infrastructure.kafka_bootstrap, [f"{namespace}.{SUBJECT_ACCESS_PART}"])
    async with the_hub(infrastructure, namespace) as hub, recorder.running():
        manager = bearer(Role.MANAGER)
        contact = await ok(await hub["intake"].post("/contacts", json=submission_payload()), 202)
        rid = contact["referral_id"]

        async def case(state: str) -> dict[str, Any] | None:
            response = await hub["decision"].get(f"/cases/{rid}", params={"reason": "screening"}, headers=manager)
            view: dict[str, Any] | None = response.json() if response.status_code == 200 else None
            return view if view and view["case_file"]["state"] == state else None

        await eventually(lambda: case("awaiting_screening"), timeout=60)
        await ok(await hub["decision"].post(f"/cases/{rid}/screening", json={"rating": "amber", "rationale": "Weeks of change."},
                                 headers=manager))
        opened = await ok(await hub["decision"].post(
            f"/cases/{rid}/enquiry", json={"agencies": ["police"], "consent_check": "given"}, headers=manager), 202)
        police = bearer(Role.AGENCY, "PC Reed", agency="police")

        async def police_request() -> bool:
            response = await hub["enquiry"].get("/agencies/police/requests", headers=police)
            return response.status_code == 200 and any(r["enquiry_id"] == opened["enquiry_id"]
                                                       for r in response.json())

        await eventually(police_request, timeout=60)
        answer = {"outcome": "information_held", "rating": "amber", "items": [
            {"about": "Mia Hughes", "summary": "Reported missing once in 2025, found the same day.",
             "sensitivity": "non_sensitive"},
            {"about": "mother's partner", "summary": SECRET, "sensitivity": "sensitive"}]}
        await ok(await hub["enquiry"].post(f"/agencies/police/requests/{opened['enquiry_id']}/response",
                                           json=answer, headers=police), 202)
        await eventually(lambda: case("awaiting_decision"), timeout=60)
        await ok(await hub["decision"].post(f"/cases/{rid}/decision", json={
            "outcome": "early_help", "rationale": "Support for Mia and her mother.", "childs_voice": NOT_YET_SOUGHT},
            headers=manager), 202)


        async def handoff_queued() -> bool:
            response = await hub["notify"].get("/deliveries", params={"referral_id": rid}, headers=manager)
            return response.status_code == 200 and bool(response.json())

        await eventually(handoff_queued, timeout=60)  # so notify's part has something to find
        started = await ok(await hub["decision"].post("/subject-access-requests", json={
            "given_name": "Mia", "family_name": "Hughes", "date_of_birth": "2017-06-01",
            "reason": "Mia's mother asked in writing"}, headers=manager), 201)
        request_id = started["request_id"]
        assert started["referral_ids"] == [rid]

        async def assembled() -> dict[str, Any] | None:
            body = await ok(await hub["decision"].get(f"/subject-access-requests/{request_id}",
                                                      params={"reason": "checking the parts"}, headers=manager))
            return body if body["complete"] else None

        export = await eventually(assembled, timeout=90)
        assert {"intake", "decision", "enquiry", "notify"} <= {item["service"] for item in export["items"]}
        assert export["parts_received"] == ["decision", "enquiry", "insight", "intake", "notify"]
        assert SECRET not in json.dumps(export)
        sealed = [w for w in export["withheld"] if w["agency"] == "police"]
        assert sealed and {w["service"] for w in sealed} == {"decision", "enquiry"}
        assert all(w["shown_as"] == "withheld until police gives permission" for w in sealed)
        contact_item = next(i for i in export["items"] if i["service"] == "intake")
        assert contact_item["third_parties"] == ["Jo Hughes", "Ann Teacher (referrer)"]
        missing = next(i for i in export["items"] if "Reported missing" in i["summary"] and i["service"] == "enquiry")
        assert missing["third_parties"] == []
        assert export["permission_requests"] and all(p["status"] == "awaiting_agency"
                                                     for p in export["permission_requests"])

        def parts() -> list[dict[str, Any]]:
            return [r.json() for r in recorder.on(f"{namespace}.{SUBJECT_ACCESS_PART}")]

        async def all_parts() -> list[dict[str, Any]] | None:
            return parts() if len({p["payload"]["service"] for p in parts()}) == 5 else None

        on_the_wire = await eventually(all_parts, timeout=30)
        assert all(SECRET not in json.dumps(part) for part in on_the_wire)

        # The police are asked on their portal (through enquiry) and permit: decision releases the item itself.
        async def asked_on_the_portal() -> list[dict[str, Any]] | None:
            found = await ok(await hub["enquiry"].get("/agencies/police/permission-requests", headers=police))
            return found if len(found) == len(export["permission_requests"]) else None

        asked = await eventually(asked_on_the_portal, timeout=60)
        assert SECRET not in json.dumps(asked)
        for permission in asked:
            await ok(await hub["enquiry"].post(f"/agencies/police/permission-requests/{permission['permission_id']}",
                                               json={"permitted": True}, headers=police))

        async def released() -> dict[str, Any] | None:
            body = await ok(await hub["decision"].get(f"/subject-access-requests/{request_id}",
                                                      params={"reason": "releasing with permission"}, headers=manager))
            return body if any(w.get("released") for w in body["withheld"]) else None

        with_permission = await eventually(released, timeout=60)
        shown = next(w for w in with_permission["withheld"] if w.get("released"))
        assert shown["shown_as"] == "released with police's permission"
        assert shown["released"]["summary"] == SECRET

        # Who looked: the export is in decision's audit for the case, each service's search in its own.
        exports = await ok(await hub["decision"].get("/audit", params={"referral_id": rid}, headers=manager))
        assert {(r["who"], r["why"]) for r in exports if r["action"] == "subject_access.export"} == {
            ("Max", "checking the parts"), ("Max", "releasing with permission")}
        released_records = [(r["who"], r["why"], r["what"]["agency"]) for r in exports
                            if r["action"] == "subject_access.release"]
        assert released_records and set(released_records) == {("Max", "releasing with permission", "police")}
        for name, client in hub.items():
            audit = await ok(await client.get("/audit", params={"referral_id": rid, "person_ref": "none"},
                                              headers=manager))
            assert isinstance(audit, list)
            searches = [r async for r in _audit_of(infrastructure, f"{namespace}_{name}")
                        if r["action"] == "subject_access.search"]
            assert [(r["who"], r["why"]) for r in searches] == [("Max", f"subject access request {request_id}")]


async def _audit_of(infrastructure: Infrastructure, database: str) -> AsyncIterator[dict[str, Any]]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
    try:
        async for record in mongo[database]["audit"].find({}):
            yield record
    finally:
        await mongo.close()
