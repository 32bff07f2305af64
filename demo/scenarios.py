"""The eight SCENARIOS.md cases as data, and how a hub's staff carry one from contact to hand-off.

`carry` acts as the referrer (or the police feed), the screener and the MASH manager would: submit,
screen (confirming intake's suggestion), open an enquiry with the scenario's agencies, and decide
on the desk's recommendation, handing off every item the desk offers. The hub's own rules do the rest.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaProducer
from mash_intake.front_door import police_contact_id
from mash_schemas.police import PoliceNotification, PoliceNotificationReceived
from mash_schemas.topics import POLICE_NOTIFICATION

from demo.client import HubClient
from demo.hub import AgencyOptions
from demo.kafka_access import POLICE_FEED, KafkaAccess
from demo.waiting import eventually

DEMO_DIR = Path(__file__).resolve().parent
PROCEED_WITHOUT_CONSENT = (
    "Consent not sought: seeking it could place the child at risk of significant harm; proceeding under the ISA."
)


@dataclass
class Scenario:
    """One case from SCENARIOS.md with what the hub should end with."""

    number: int
    key: str
    title: str
    contact: dict[str, Any]
    arrives_as: str
    agencies: list[str]
    silent_agencies: list[str]
    expected: dict[str, Any]
    handoff: dict[str, list[str]] = field(default_factory=dict)
    feedback: dict[str, list[str]] = field(default_factory=dict)
    police_notification: dict[str, Any] | None = None


# The front door's reasoning the demo's screener records (issue 23): a safety scale by the rating, a statement
# naming the concern's categories (never the referrer's own words, which may identify a member of the public),
# and the child's voice as not yet sought (the front door rarely speaks with the child; the receiving service does).
SAFETY_SCALE_BY_RATING = {"red": 2, "amber": 4, "green": 6, "blue": 8}
NOT_YET_SOUGHT = {
    "child": {"known": False, "not_known_because": "not_yet_possible",
              "detail": "Not yet spoken with at the front door; the receiving service is asked to seek them."},
    "parents": {"known": False, "not_known_because": "not_yet_possible",
                "detail": "Not yet spoken with at the front door."},
}


def screening_reasoning(rating: str, categories: list[str], agencies: list[str] | None = None) -> dict[str, Any]:
    """The risk analysis and child's voice a screener adds to the screening body (see docs/decision.md)."""
    concern = ", ".join(category.replace("_", " ") for category in categories) or "the concern as referred"
    analysis: dict[str, Any] = {
        "danger_statements": f"We are worried about {concern}.",
        "safety_scale": SAFETY_SCALE_BY_RATING.get(rating, 5),
    }
    if agencies:
        analysis["next_steps"] = f"MASH enquiry with {', '.join(agencies)}."
    return {"risk_analysis": analysis, "childs_voice": NOT_YET_SOUGHT}


def load_scenarios() -> list[Scenario]:
    """Every scenario in demo/scenarios.yaml, with its contact (and police notification) loaded."""
    document = yaml.safe_load((DEMO_DIR / "scenarios.yaml").read_text(encoding="utf-8"))
    scenarios = []
    for entry in document["scenarios"]:
        police = entry.get("police_notification")
        scenarios.append(Scenario(
            number=entry["number"], key=entry["key"], title=entry["title"],
            contact=json.loads((DEMO_DIR / entry["contact"]).read_text(encoding="utf-8")),
            arrives_as=entry.get("arrives_as", "web_form"), agencies=entry["agencies"],
            silent_agencies=entry.get("silent_agencies", []), expected=entry["expected"],
            handoff=entry.get("handoff") or {}, feedback=entry.get("feedback") or {},
            police_notification=json.loads((DEMO_DIR / police).read_text(encoding="utf-8")) if police else None,
        ))
    return scenarios


def agencies_for(scenarios: list[Scenario]) -> dict[str, AgencyOptions]:
    """The simulated agencies a run of these scenarios needs (silent ones never answer)."""
    options: dict[str, AgencyOptions] = {}
    for scenario in scenarios:
        for agency in scenario.agencies:
            options.setdefault(agency, AgencyOptions())
        for agency in scenario.silent_agencies:
            options[agency] = AgencyOptions(never_answer=True)
    return options


def write_timescales(path: Path, enquiry_seconds: float) -> Path:
    """The packaged timescales, with every enquiry window shortened to `enquiry_seconds` (demo, tests)."""
    hours = enquiry_seconds / 3600
    window = {"hours": hours, "clock": "continuous"}
    document = {
        "enquiry_targets": {rating: window for rating in ("red", "amber", "green", "blue")},
        "decision_margin_minutes": 0,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@dataclass
class CarriedCase:
    """What happened to one scenario."""

    scenario: Scenario
    referral_id: str
    suggested_rating: str | None = None
    decision: dict[str, Any] = field(default_factory=dict)
    recommendation: dict[str, Any] | None = None
    not_answered: list[str] = field(default_factory=list)


async def send_police_notification(bootstrap: str, namespace: str, notification: dict[str, Any]) -> str:
    """Put a police notification on the feed topic, as a force's system would; returns its contact id."""
    payload = PoliceNotification.model_validate(notification)
    event = PoliceNotificationReceived.build(payload, correlation_id=payload.notification_id,
                                             producer=f"police:{payload.force}")
    access = KafkaAccess.from_environment()  # on the secured broker, the feed logs in as `police-feed`
    login = access.client_options(POLICE_FEED) if access else {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **login)
    await producer.start()
    try:
        topic = f"{namespace}.{POLICE_NOTIFICATION}" if namespace else POLICE_NOTIFICATION
        await producer.send_and_wait(topic, event.model_dump_json().encode(), key=payload.notification_id.encode())
    finally:
        await producer.stop()
    return police_contact_id(payload)


async def _case_in(client: HubClient, referral_id: str, states: set[str], timeout: float,
                   poll: float = 0.25) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        case = await client.case(referral_id)
        return case if case and case["case_file"]["state"] in states else None

    return await eventually(probe, timeout=timeout, interval=poll, what=f"{referral_id} in {sorted(states)}")


async def carry(
    client: HubClient, scenario: Scenario, *, enquiry_timeout: float = 120.0, poll: float = 0.25,
    case_timeout: float = 60.0,
) -> CarriedCase:
    """Take one scenario from contact to decision, as the hub's staff would (looking every `poll` seconds)."""
    hub = client.hub
    if scenario.arrives_as == "police_notification" and scenario.police_notification is not None:
        notification = {**scenario.police_notification,
                        "notification_id": f"{scenario.police_notification['notification_id']}-{uuid.uuid4().hex[:6]}"}
        referral_id = await send_police_notification(hub.config.kafka_bootstrap, hub.config.namespace, notification)
    else:
        response = await client.submit_contact(scenario.contact, idempotency_key=f"demo-{uuid.uuid4()}")
        response.raise_for_status()
        referral_id = response.json()["referral_id"]
    carried = CarriedCase(scenario=scenario, referral_id=referral_id)

    case = await _case_in(client, referral_id, {"awaiting_screening", "routed_to_allocated_worker", "decided"},
                          case_timeout, poll)
    carried.suggested_rating = case["case_file"]["referral"]["suggested_rating"]["rating"]
    if case["case_file"]["state"] == "awaiting_screening":
        categories = case["case_file"]["referral"]["concern"]["categories"]
        screened = await client.desk(referral_id, "screening", {
            "rating": carried.suggested_rating,
            **screening_reasoning(carried.suggested_rating or "", categories, scenario.agencies)},
            as_=client.screener)
        screened.raise_for_status()
        consent = scenario.contact["consent"]["status"]
        enquiry: dict[str, Any] = {"agencies": scenario.agencies, "questions": ["What do you know of this family?"]}
        if consent == "given":
            enquiry["consent_check"] = "given"
        else:
            enquiry["proceed_without_consent_reason"] = PROCEED_WITHOUT_CONSENT
        opened = await client.desk(referral_id, "enquiry", enquiry)
        opened.raise_for_status()
        case = await _case_in(client, referral_id, {"awaiting_decision"}, enquiry_timeout, poll)
        recommendation = case["recommendation"]
        carried.recommendation = recommendation
        carried.not_answered = case["case_file"]["enquiry_outcome"]["not_answered"]
        decided = await client.desk(referral_id, "decision", {
            "outcome": recommendation["outcome"],
            "rating": recommendation["rating"],
            "rationale": "Decided on the enquiry's findings: " + "; ".join(recommendation["reasons"])[:4000],
            "handoff_item_ids": case["handoff_candidates"],
        })
        decided.raise_for_status()
    case = await _case_in(client, referral_id, {"decided", "routed_to_allocated_worker"}, case_timeout, poll)
    carried.decision = case["case_file"]["decision"]
    return carried
