"""The SCENARIOS.md cases, carried through the real services: outcome, rating, silent agencies, and what the
hand-off and the referrer's feedback must and must not say (the sealed hub, on the wire)."""

from __future__ import annotations

import asyncio

from demo.client import HubClient
from demo.hub import Hub
from demo.postbox import Mail, Postbox
from demo.scenarios import CarriedCase, Scenario, carry, load_scenarios
from demo.waiting import eventually


def _handoff(postbox: Postbox, referral_id: str) -> list[Mail]:
    return [m for m in postbox.mail if referral_id in m.subject and "hand-off" in m.subject.lower()]


def _feedback(postbox: Postbox, scenario: Scenario) -> list[Mail]:
    email = scenario.contact["referrer"].get("email")
    return postbox.mail_to(email) if email else []


async def test_every_scenario_reaches_its_expected_outcome_and_the_sealed_items_stay_sealed(
    hub: Hub, client: HubClient, postbox: Postbox
) -> None:
    scenarios = [s for s in load_scenarios() if s.arrives_as == "web_form"]
    carried: list[CarriedCase] = await asyncio.gather(*(carry(client, s) for s in scenarios))

    async def mail_arrived() -> bool:
        return all(_handoff(postbox, c.referral_id) and (not c.scenario.contact["referrer"].get("email")
                                                          or _feedback(postbox, c.scenario)) for c in carried)

    await eventually(mail_arrived, timeout=60, interval=0.25, what="hand-offs and feedback delivered")
    problems: list[str] = []
    for case in carried:
        scenario, decision = case.scenario, case.decision
        name = f"#{scenario.number} {scenario.key}"
        expected = scenario.expected
        if decision["outcome"] != expected["outcome"]:
            problems.append(f"{name}: outcome {decision['outcome']}, expected {expected['outcome']}")
        if expected.get("rating") and decision["rating"] != expected["rating"]:
            problems.append(f"{name}: rating {decision['rating']}, expected {expected['rating']}")
        if expected.get("route") and decision["route"] != expected["route"]:
            problems.append(f"{name}: route {decision['route']}, expected {expected['route']}")
        for silent in scenario.silent_agencies:
            if silent not in case.not_answered:
                problems.append(f"{name}: {silent} never answered but is not named")
        handoffs = _handoff(postbox, case.referral_id)
        if len({m.message_id for m in handoffs}) != len(handoffs):
            problems.append(f"{name}: a hand-off was delivered twice")
        text = "\n".join(m.body for m in handoffs).lower()
        for phrase in scenario.handoff.get("must_contain", []):
            if phrase.lower() not in text:
                problems.append(f"{name}: hand-off lacks {phrase!r}")
        for phrase in scenario.handoff.get("must_not_contain", []):
            if phrase.lower() in text:
                problems.append(f"{name}: hand-off leaks {phrase!r}")
        feedback = "\n".join(m.body for m in _feedback(postbox, scenario)).lower()
        for phrase in scenario.feedback.get("must_contain", []):
            if phrase.lower() not in feedback:
                problems.append(f"{name}: feedback lacks {phrase!r}")
        for phrase in scenario.feedback.get("must_not_contain", []):
            if phrase.lower() in feedback:
                problems.append(f"{name}: feedback leaks {phrase!r}")
    assert not problems, "\n".join(problems)


async def test_insight_figures_for_the_scenarios_equal_an_independent_count_from_the_topics(hub: Hub) -> None:
    """Insight joined by subscribing: what it serves equals what the raw events on the topics add up to."""
    from datetime import UTC, datetime, timedelta

    import httpx
    from mash_runtime.auth import Role, issue_token
    from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
    from mash_runtime.timescales import Timescales, default_timescales
    from mash_schemas import topics

    from tests.support.insight_oracle import expected_figures, served_figures
    from tests.support.topics import TopicRecorder

    timescales = Timescales(default_timescales())
    today = datetime.now(UTC).astimezone(timescales.working.zone).date()
    first, last = today - timedelta(days=1), today + timedelta(days=1)
    bases = [topics.REFERRAL_RECEIVED, topics.DECISION_MADE, topics.ENQUIRY_OPENED, topics.ENQUIRY_COMPLETED,
             topics.ENQUIRY_ADDENDUM, topics.CONSULTATION_RECORDED, topics.POLICE_NOTIFICATION]
    named = {f"{hub.config.namespace}.{base}": base for base in bases}
    analyst = {"Authorization": "Bearer " + issue_token(DEVELOPMENT_JWT_SECRET, "analyst-1", [Role.ANALYST])}
    period = {"from": first.isoformat(), "to": last.isoformat()}
    async with TopicRecorder(hub.config.kafka_bootstrap, list(named)).running() as recorder, \
            httpx.AsyncClient(base_url=hub.url("insight"), headers=analyst, timeout=30) as insight:

        async def agree() -> tuple[dict[str, object], dict[str, object]] | None:
            raw = {base: [r.json() for r in recorder.on(name)] for name, base in named.items()}
            expected = expected_figures(raw, first, last, timescales)
            reports = [(await insight.get(f"/figures/{name}", params={**period, **extra})).json() for name, extra in
                       (("performance", {"by": "day"}), ("agencies", {}), ("areas", {"by": "week"}),
                        ("consultations", {}))]
            served = served_figures(*reports)
            decided = len(raw[topics.DECISION_MADE])
            return (served, expected) if decided and served == expected else None

        served, expected = await eventually(agree, timeout=60, interval=0.5,
                                            what="insight's figures equal the count from the topics")
    assert served == expected
