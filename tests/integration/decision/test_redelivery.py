"""A redelivered event changes nothing: the same referral.received or enquiry.completed (same event_id)
applied twice leaves the case file and what the desk publishes exactly as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from mash_schemas import AgencyFindings, BragRating, SealedItem
from mash_schemas.topics import DEAD_LETTER, DECISION_MADE, ENQUIRY_COMPLETED, ENQUIRY_OPENED, REFERRAL_RECEIVED

from demo.scenarios import NOT_YET_SOUGHT
from tests.integration.decision.desk_harness import (
    ENQUIRY_OUTCOMES_GROUP,
    REFERRALS_GROUP,
    Desk,
    desk_settings,
    enquiry_completed,
    referral,
    referral_received,
    running_desk,
    sensitive,
    shareable,
    topic_events,
)
from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually


@pytest.fixture
async def desk(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[Desk]:
    async with running_desk(desk_settings(infrastructure, namespace)) as running:
        yield running


async def _snapshot(desk: Desk, referral_id: str) -> tuple[int, str, list[dict[str, Any]]]:
    """The stored version, the state and the case file's history (once nothing is left to publish)."""
    await desk.outbox_empty(referral_id)
    doc = await desk.case_files.find_one({"_id": referral_id}, {"_version": 1})
    assert doc is not None
    view = (await desk.case(referral_id, reason="checking the case file is unchanged")).json()
    return doc["_version"], view["case_file"]["state"], view["case_file"]["history"]


async def test_a_redelivered_referral_or_enquiry_outcome_changes_nothing(desk: Desk) -> None:
    quiet_worry = referral("scenario-5-quiet-worry.json", rating=BragRating.GREEN)
    rid = quiet_worry.referral_id
    received = referral_received(quiet_worry)

    first = await desk.publish(REFERRAL_RECEIVED, received)
    await desk.applied(REFERRALS_GROUP, REFERRAL_RECEIVED, first)
    opened = await _snapshot(desk, rid)
    assert opened[1] == "awaiting_screening"
    assert len(opened[2]) == 1

    again = await desk.publish(REFERRAL_RECEIVED, received)
    assert again[0] == first[0] and again[1] > first[1]  # the same partition, a later offset: a real redelivery
    await desk.applied(REFERRALS_GROUP, REFERRAL_RECEIVED, again)
    assert await _snapshot(desk, rid) == opened

    # screening and an enquiry, then the research desk's outcome, delivered twice
    assert (await desk.step(rid, "screening", {"rating": "green", "childs_voice": NOT_YET_SOUGHT},
                            as_=desk.screener)).status_code == 200
    enquiry = await desk.step(rid, "enquiry", {"agencies": ["health", "police"], "consent_check": "given"})
    assert enquiry.status_code == 202, enquiry.text
    now = datetime.now(UTC)
    completed = enquiry_completed(rid, enquiry.json()["enquiry_id"], findings=[
        AgencyFindings(agency="health", outcome="information_held", rating=BragRating.GREEN, responded_at=now,
                       items=[shareable("gp-7", "mother", "Mother's recent GP visits show she is not coping.")]),
        AgencyFindings(agency="police", outcome="information_held", rating=BragRating.GREEN, responded_at=now),
    ], sealed=[SealedItem(agency="police", item=sensitive("pol-7", "mother's partner", "Partner on bail."))],
        not_answered=[])

    first = await desk.publish(ENQUIRY_COMPLETED, completed)
    await desk.applied(ENQUIRY_OUTCOMES_GROUP, ENQUIRY_COMPLETED, first)
    recorded = await _snapshot(desk, rid)
    assert recorded[1] == "awaiting_decision"
    assert recorded[2][-1]["what"] == "enquiry completed: all agencies answered"

    again = await desk.publish(ENQUIRY_COMPLETED, completed)
    await desk.applied(ENQUIRY_OUTCOMES_GROUP, ENQUIRY_COMPLETED, again)
    assert await _snapshot(desk, rid) == recorded

    # the decision, then both events redelivered once more: still one case file history, one of each event
    decided = await desk.step(rid, "decision", {"outcome": "early_help", "rationale": "Early Help for the mother.",
                                                "handoff_item_ids": ["health:gp-7"]})
    assert decided.status_code == 202, decided.text
    after_decision = await _snapshot(desk, rid)
    assert after_decision[1] == "decided"

    for topic, group, event in ((ENQUIRY_COMPLETED, ENQUIRY_OUTCOMES_GROUP, completed),
                                (REFERRAL_RECEIVED, REFERRALS_GROUP, received)):
        await desk.applied(group, topic, await desk.publish(topic, event))
    assert await _snapshot(desk, rid) == after_decision

    assert len(await desk.events(ENQUIRY_OPENED, rid)) == 1
    [made] = await desk.events(DECISION_MADE, rid)
    assert made["payload"]["outcome"] == "early_help"
    assert [h["item_id"] for h in made["payload"]["released_items"]] == ["gp-7"]
    assert [w["item_id"] for w in made["payload"]["withheld_items"]] == ["pol-7"]


async def test_an_event_the_desk_refuses_is_dead_lettered_at_once_and_the_partition_keeps_flowing(desk: Desk) -> None:
    first = referral("scenario-7-nobody-answers.json", rating=BragRating.AMBER)
    rid = first.referral_id
    await desk.publish(REFERRAL_RECEIVED, referral_received(first))
    before = await desk.case_in(rid, "awaiting_screening")

    # an outcome for an enquiry this case never opened: a rule refuses it, retrying cannot help
    stray = enquiry_completed(rid, f"ENQ-{rid}", findings=[], sealed=[], not_answered=["police"])
    where = await desk.publish(ENQUIRY_COMPLETED, stray)

    async def dead_letter() -> dict[str, Any] | None:
        letters = await topic_events(desk.bootstrap, desk.topic(DEAD_LETTER))
        return next((d for d in letters if d["payload"]["origin_offset"] == where[1]
                     and d["payload"]["origin_topic"] == desk.topic(ENQUIRY_COMPLETED)), None)

    letter = (await eventually(dead_letter, timeout=60, what="the stray outcome dead-lettered"))["payload"]
    # Refused on its first attempt: a record that went through the retries would be dead-lettered as
    # handler_failed ("handler failed N times"), and only once the back-off had run its course.
    assert letter["error_type"] == "rejected"
    assert f"was not opened on referral {rid}" in letter["reason"]
    assert "handler failed" not in letter["reason"]
    await desk.applied(ENQUIRY_OUTCOMES_GROUP, ENQUIRY_COMPLETED, where)
    after = (await desk.case(rid, reason="checking the case file is unchanged")).json()
    assert after["case_file"] == before["case_file"]

    # the referral's next outcome, on the same partition, is applied
    assert (await desk.step(rid, "screening", {"rating": "amber", "childs_voice": NOT_YET_SOUGHT},
                            as_=desk.screener)).status_code == 200
    opened = await desk.step(rid, "enquiry", {"agencies": ["police"], "consent_check": "given"})
    assert opened.status_code == 202, opened.text
    answered = enquiry_completed(rid, opened.json()["enquiry_id"], findings=[
        AgencyFindings(agency="police", outcome="nothing_known", responded_at=datetime.now(UTC))],
        sealed=[], not_answered=[])
    assert (await desk.publish(ENQUIRY_COMPLETED, answered))[0] == where[0]
    recorded = await desk.case_in(rid, "awaiting_decision")
    assert recorded["recommendation"]["reasons"][1] == "police: nothing known."
