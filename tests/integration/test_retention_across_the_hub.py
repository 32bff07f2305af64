"""Retention across the whole hub on the real broker and store: a contact past its date leaves nothing behind.

All five services run in this process through their real bootstraps, on one FixedClock, in a namespace and
databases of this test's own. A contact whose names carry a marker goes through intake, screening, an
enquiry (which completes unanswered) and a decision of no further action, so that every service holds a
copy; a second contact, decided the same way, is put under a legal hold by a MASH manager. Two years and a
month later intake's sweeper erases the first: one `subject.erased` event, and every service drops its
copies. Then the planted-marker search reads every document of every collection of every service's database.
The held contact is still there. A redelivered erasure event erases and audits nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
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
from mash_notify.settings import NotifySettings
from mash_runtime.auth import issue_token
from mash_runtime.clock import FixedClock
from mash_runtime.roles import Role
from mash_schemas.governance import SubjectErased
from mash_schemas.topics import SUBJECT_ERASED
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from demo.scenarios import NOT_YET_SOUGHT
from tests.support.insight_events import MARKER
from tests.support.retention_scenarios import erased_elsewhere, what_remains
from tests.support.service_harness import MONDAY_MORNING
from tests.support.waiting import eventually
from tests.unit.intake.intake_builders import submission_payload
from tests.unit.notify.test_notify_use_cases import notify_in_memory_channels

pytestmark = pytest.mark.integration
SERVICES = {
    "intake": (intake_bootstrap, IntakeSettings),
    "decision": (decision_bootstrap, DecisionSettings),
    "enquiry": (enquiry_bootstrap, EnquirySettings),
    "notify": (notify_in_memory_channels, NotifySettings),
    "insight": (insight_bootstrap, InsightSettings),
}


@dataclass
class Running:
    """The hub in this process: each service, its HTTP client and its database."""

    services: dict[str, Any]
    http: dict[str, httpx.AsyncClient]
    databases: dict[str, AsyncDatabase[dict[str, Any]]]
    clock: FixedClock

    def staff(self, role: Role) -> dict[str, str]:
        secret = self.services["decision"].runtime.settings.jwt_secret.get_secret_value()
        return {"Authorization": f"Bearer {issue_token(secret, f'Mo ({role.value})', [role])}"}


@pytest.fixture
async def hub(infrastructure: Any, namespace: str) -> AsyncIterator[Running]:
    clock = FixedClock(MONDAY_MORNING)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    services: dict[str, Any] = {}
    for name, (build, settings_class) in SERVICES.items():
        settings = settings_class(environment="test", topic_namespace=namespace, log_level="WARNING",
                                  kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                                  mongo_database=f"{namespace}_{name}", relay_poll_seconds=0.1)
        services[name] = build(settings, clock=clock)
    async with contextlib.AsyncExitStack() as stack:
        http = {}
        for name, service in services.items():
            await stack.enter_async_context(service.runtime.running(periodic_jobs=False))
            http[name] = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=service.app), base_url=f"http://{name}", timeout=30))
        try:
            yield Running(services, http, {n: mongo[f"{namespace}_{n}"] for n in services}, clock)
        finally:
            for name in services:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(mongo.drop_database(f"{namespace}_{name}"), 10)
            await mongo.close()


async def found(db: AsyncDatabase[dict[str, Any]], collection: str, query: dict[str, Any]) -> Any:
    return await db[collection].find_one(query)


async def a_contact_decided_no_further_action(hub: Running, family: str, *, with_enquiry: bool) -> str:
    """A contact through the front door, screened, (enquired into,) and decided no further action."""
    payload = submission_payload()
    payload["subjects"][0]["family_name"] = family
    payload["household"][0]["family_name"] = family
    accepted = await hub.http["intake"].post("/contacts", json=payload)
    assert accepted.status_code == 202, accepted.text
    rid = str(accepted.json()["referral_id"])
    decision, db = hub.http["decision"], hub.databases["decision"]
    await eventually(lambda: found(db, "case_files", {"_id": rid}), timeout=60)
    screened = await decision.post(f"/cases/{rid}/screening", json={"rating": "green"},
                                   headers=hub.staff(Role.SCREENER))
    assert screened.status_code == 200, screened.text
    if with_enquiry:
        opened = await decision.post(f"/cases/{rid}/enquiry", json={"agencies": ["health", "police"],
                                                                    "consent_check": "given"},
                                     headers=hub.staff(Role.MANAGER))
        assert opened.status_code == 202, opened.text
        await eventually(lambda: found(hub.databases["enquiry"], "enquiries", {"referral_id": rid}), timeout=60)
        hub.clock.advance(days=3)  # nobody answers: the due time passes and the enquiry completes
        await hub.services["enquiry"].desk.sweep()

        async def awaiting() -> Any:
            doc = await found(db, "case_files", {"_id": rid})
            return doc if doc and doc["state"] == "awaiting_decision" else None

        await eventually(awaiting, timeout=60)
    decided = await decision.post(f"/cases/{rid}/decision", json={
        "outcome": "no_further_action", "rationale": "Information only; the school continues to support.",
        "childs_voice": NOT_YET_SOUGHT},
        headers=hub.staff(Role.MANAGER))
    assert decided.status_code == 202, decided.text
    await eventually(lambda: found(hub.databases["notify"], "deliveries", {"referral_id": rid}), timeout=60)
    await eventually(lambda: found(hub.databases["insight"], "decisions", {"_id": rid}), timeout=60)
    await eventually(lambda: found(hub.databases["intake"], "contacts",
                                   {"_id": rid, "outcome": "no_further_action"}), timeout=60)
    return rid


async def test_past_its_date_nothing_about_the_subject_remains_in_any_service_unless_held(hub: Running) -> None:
    erased = await a_contact_decided_no_further_action(hub, f"Hughes{MARKER}", with_enquiry=True)
    held = await a_contact_decided_no_further_action(hub, "Heldfamily", with_enquiry=False)
    for name in ("intake", "enquiry", "notify"):  # the controls: the search sees the copies (decision's are sealed)
        assert await what_remains(hub.databases[name], erased), name
    placed = await hub.http["decision"].post(f"/cases/{held}/legal-hold", json={
        "reason": "complaint", "note": "Complaint from the family under investigation"},
        headers=hub.staff(Role.MANAGER))
    assert placed.status_code == 201, placed.text
    for name in SERVICES:  # every service keeps the hold locally
        await eventually(lambda n=name: found(hub.databases[n], "legal_holds", {"_id": held, "state": "placed"}),
                         timeout=60)

    hub.clock.advance(timedelta(days=365 * 2 + 30))
    assert await hub.services["intake"].governance.sweep() >= 1

    async def all_gone() -> bool:
        return all([await what_remains(db, erased) == [] for db in hub.databases.values()])

    await eventually(all_gone, timeout=90)
    for name in ("decision", "enquiry", "notify", "insight"):  # their own sweepers find nothing more to do
        await hub.services[name].governance.sweep()
    await eventually(all_gone, timeout=30)
    for name in ("intake", "decision", "notify", "insight"):  # the held contact is untouched
        assert await what_remains(hub.databases[name], held), name

    # A redelivery of intake's event, then a probe behind it on the same partition: once the probe is applied,
    # the redelivery was too, and nothing was erased or audited twice.
    doc = await found(hub.databases["intake"], "erasures", {"_id": erased})
    assert doc is not None and MARKER not in repr(doc)
    probe = erased_elsewhere(erased, by="probe", at=hub.clock())
    for event in (await intake_event(hub, erased), probe):
        await hub.services["intake"].runtime.broker.publish(
            event.model_dump_json(), hub.services["intake"].runtime.settings.topic(SUBJECT_ERASED),
            key=erased.encode(), headers={"content-type": "application/json", "event-type": event.event_type})
    for name, db in hub.databases.items():
        await eventually(lambda d=db: found(d, "erasures", {"_id": erased, "_inbox": str(probe.event_id)}),
                         timeout=60)
        actions = [r["action"] for r in await hub.services[name].runtime.audit.for_referral(erased)]
        assert actions.count("erased") + actions.count("anonymised") == 1, (name, actions)


async def intake_event(hub: Running, referral_id: str) -> SubjectErased:
    """Intake's own erasure event, as its erasure record's id says it was published."""
    from mash_schemas.envelope import derived_event_id

    event = erased_elsewhere(referral_id, by="intake", at=hub.clock())
    assert event.event_id == derived_event_id(referral_id, "subject.erased/intake")
    return event
