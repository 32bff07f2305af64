"""The manager's desk on the real broker and store: screening, enquiry, recommendation and decision.

The decision app runs in this process (its lifespan starts the real consumers, relay and clock); the
referral and the enquiry's outcome arrive on the real topics as intake and the research desk would put
them there, and what the desk publishes is read back from the topics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mash_schemas import AgencyFindings, BragRating, SealedItem
from mash_schemas.envelope import derived_event_id
from mash_schemas.topics import DECISION_MADE, ENQUIRY_COMPLETED, ENQUIRY_OPENED, REFERRAL_RECEIVED

from demo.scenarios import NOT_YET_SOUGHT
from tests.integration.decision.desk_harness import (
    Desk,
    desk_settings,
    enquiry_completed,
    referral,
    referral_received,
    running_desk,
    sensitive,
    shareable,
    write_timescales,
)
from tests.support.infrastructure import Infrastructure

# Enquiry windows by rating (continuous, so the due time is checkable to the second whatever the hour).
ENQUIRY_HOURS = {"red": 1, "amber": 2, "green": 5, "blue": 6}
PROCEED_REASON = "Police referral: consent not yet sought; the concern about the boy's welfare justifies enquiries."
POLICE_INTELLIGENCE = "Intelligence: father's associate, suspected of supplying drugs, visits the home weekly."


@pytest.fixture
async def desk(infrastructure: Infrastructure, namespace: str, tmp_path: Path) -> AsyncIterator[Desk]:
    timescales = write_timescales(tmp_path / "timescales.yaml", {
        "enquiry_targets": {rating: {"hours": hours, "clock": "continuous"} for rating, hours in ENQUIRY_HOURS.items()},
        "decision_margin_minutes": 0,
    })
    async with running_desk(desk_settings(infrastructure, namespace, timescales_file=timescales)) as running:
        yield running


async def test_a_referral_goes_from_screening_through_an_enquiry_to_one_decision(desk: Desk) -> None:
    # intake's referral about the bike theft (SCENARIOS #1), suggested green, arrives on the real topic
    bike_theft = referral("scenario-1-bike-theft.json", rating=BragRating.GREEN)
    rid = bike_theft.referral_id
    await desk.publish(REFERRAL_RECEIVED, referral_received(bike_theft))
    opened = await desk.case_in(rid, "awaiting_screening")
    assert opened["case_file"]["referral"]["suggested_rating"]["rating"] == "green"
    assert opened["recommendation"] is None
    assert [e["state"] for e in await desk.queue() if e["referral_id"] == rid] == ["awaiting_screening"]

    # --- screening: refusals are JSON naming the problem; nothing is changed by them
    unexplained = await desk.step(rid, "screening", {"rating": "amber"}, as_=desk.screener)
    assert unexplained.status_code == 409
    assert unexplained.json()["error"] == "DeskRefused"
    assert "changing the rating from green to amber needs a rationale" in unexplained.json()["message"]
    malformed = await desk.step(rid, "screening", {"rating": "purple", "note": "x"}, as_=desk.screener)
    assert malformed.status_code == 422
    assert {f["field"] for f in malformed.json()["fields"]} == {"rating", "note"}
    assert (await desk.case(rid)).json()["case_file"]["state"] == "awaiting_screening"

    screened = await desk.step(rid, "screening", {"rating": "green", "childs_voice": NOT_YET_SOUGHT},
                               as_=desk.screener)
    assert screened.status_code == 200, screened.text
    again = await desk.step(rid, "screening", {"rating": "green"}, as_=desk.screener)
    assert again.status_code == 409
    assert "cannot screen while the case is awaiting decision" in again.json()["message"]

    # --- the enquiry: manager only, consent re-checked, due time set by the (green) rating
    agencies = ["probation", "health", "police", "education"]
    by_screener = await desk.step(rid, "enquiry", {"agencies": agencies, "consent_check": "given"},
                                  as_=desk.screener)
    assert by_screener.status_code == 403
    assert by_screener.json()["error"] == "http_error"
    unchecked = await desk.step(rid, "enquiry", {"agencies": agencies})
    assert unchecked.status_code == 409
    assert "re-check consent" in unchecked.json()["message"]

    before = datetime.now(UTC)
    enquiry = await desk.step(rid, "enquiry", {"agencies": agencies, "proceed_without_consent_reason": PROCEED_REASON,
                                               "questions": ["What do you hold on Kai and his parents?"]})
    after = datetime.now(UTC)
    assert enquiry.status_code == 202, enquiry.text
    enquiry_id = enquiry.json()["enquiry_id"]

    [enquiry_opened] = await desk.events(ENQUIRY_OPENED, rid)
    opened_enquiry = enquiry_opened["payload"]
    assert opened_enquiry["enquiry_id"] == enquiry_id
    assert opened_enquiry["rating"] == "green"
    assert opened_enquiry["agencies"] == agencies
    assert opened_enquiry["consent"]["status"] == "not_sought"
    assert opened_enquiry["consent"]["reason"] == PROCEED_REASON
    assert opened_enquiry["lawful_basis"] == "Children Act 2004 s10 without consent"
    due_at = datetime.fromisoformat(opened_enquiry["due_at"])
    window = timedelta(hours=ENQUIRY_HOURS["green"])
    assert before + window <= due_at <= after + window
    assert enquiry_opened["correlation_id"] == rid

    # --- the research desk completes: two agencies amber, police's answer sealed, education silent
    now = datetime.now(UTC)
    outcome = enquiry_completed(rid, enquiry_id, findings=[
        AgencyFindings(agency="probation", outcome="information_held", rating=BragRating.AMBER, responded_at=now,
                       items=[shareable("prob-1", "father", "Father in prison; release due next week.")]),
        AgencyFindings(agency="health", outcome="information_held", rating=BragRating.AMBER, responded_at=now,
                       items=[shareable("gp-1", "mother", "Mother: mental-health history, missed appointments.")]),
        AgencyFindings(agency="police", outcome="information_held", rating=BragRating.AMBER, responded_at=now),
    ], sealed=[SealedItem(agency="police", item=sensitive("pol-1", "father's associate", POLICE_INTELLIGENCE))],
        not_answered=["education"])
    assert POLICE_INTELLIGENCE not in outcome.model_dump_json()  # encrypted for decision's key on the wire
    await desk.publish(ENQUIRY_COMPLETED, outcome)
    as_manager = await desk.case_in(rid, "awaiting_decision")

    # the manager sees the recommendation with its reasons, and the sealed item
    recommendation = as_manager["recommendation"]
    assert recommendation["rating"] == "amber"
    assert recommendation["outcome"] == "statutory_assessment"
    assert recommendation["receiving_service"] == "assessment-team"
    assert recommendation["silent_agencies"] == ["education"]
    reasons = recommendation["reasons"]
    assert "Screening rating: green (the recommendation is never lower)." in reasons
    assert "Highest agency rating: amber (health, police, probation)." in reasons
    assert "police rated amber, including 1 sealed item(s) that stay in the hub." in reasons
    assert any(line.startswith("No answer from education") for line in reasons)
    assert [s["item"]["summary"] for s in as_manager["case_file"]["enquiry_outcome"]["sealed"]] == [POLICE_INTELLIGENCE]
    # police did not permit release: never a hand-off candidate, only a reference saying whom to ask
    assert as_manager["handoff_candidates"] == ["health:gp-1", "probation:prob-1"]
    assert as_manager["handoff_choices"] == [
        {"key": "health:gp-1", "agency": "health", "item_id": "gp-1",
         "summary": "Mother: mental-health history, missed appointments.", "sealed": False, "release_wording": None},
        {"key": "probation:prob-1", "agency": "probation", "item_id": "prob-1",
         "summary": "Father in prison; release due next week.", "sealed": False, "release_wording": None}]
    assert as_manager["withheld_items"] == [{"key": "police:pol-1", "agency": "police", "item_id": "pol-1",
                                             "request_route": "Ask the police public protection unit, ext 4471"}]
    # at rest the case file is sealed: neither the intelligence nor the child's name is readable in the store
    stored = str(await desk.case_files.find_one({"_id": rid}))
    assert POLICE_INTELLIGENCE not in stored
    assert "Turner" not in stored

    # the analyst reads the same case file without the sealed item
    as_analyst = await desk.case(rid, as_=desk.analyst, reason="trend analysis of repeat referrals")
    assert as_analyst.status_code == 200
    assert as_analyst.json()["case_file"]["enquiry_outcome"]["sealed"] == []
    assert as_analyst.json()["handoff_candidates"] == ["health:gp-1", "probation:prob-1"]
    assert [choice["key"] for choice in as_analyst.json()["handoff_choices"]] == ["health:gp-1", "probation:prob-1"]
    assert as_analyst.json()["withheld_items"] == []
    assert POLICE_INTELLIGENCE not in as_analyst.text

    [waiting] = [e for e in await desk.queue() if e["referral_id"] == rid]
    assert waiting["state"] == "awaiting_decision"
    assert waiting["enquiry_completed"] is True
    assert waiting["time_left"].endswith("(working)")

    # --- the decision: manager only, named items only, once
    by_screener = await desk.step(rid, "decision", {"outcome": "early_help", "rationale": "x"}, as_=desk.screener)
    assert by_screener.status_code == 403
    unknown_item = await desk.step(rid, "decision", {"outcome": "statutory_assessment", "rationale": "x",
                                                     "handoff_item_ids": ["police:pol-9"]})
    assert unknown_item.status_code == 409
    assert "'police:pol-9' is not on this case" in unknown_item.json()["message"]
    for sealed_id in ("police:pol-1", "pol-1"):
        not_releasable = await desk.step(rid, "decision", {"outcome": "statutory_assessment", "rationale": "x",
                                                           "handoff_item_ids": ["gp-1", sealed_id]})
        assert not_releasable.status_code == 422, not_releasable.text
        refused = not_releasable.json()
        assert refused["error"] == "HandoffRefused"
        assert [f["field"] for f in refused["fields"]] == ["handoff_item_ids"]
        assert f"{sealed_id!r} is sensitive and police has not permitted its release" in refused["message"]
        assert POLICE_INTELLIGENCE not in not_releasable.text

    rationale = "Father's release and mother's mental health together meet the threshold for a s17 assessment."
    deciding = datetime.now(UTC)
    decided = await desk.step(rid, "decision", {"outcome": "statutory_assessment", "rationale": rationale,
                                                "handoff_item_ids": ["probation:prob-1", "gp-1"]})
    decided_by = datetime.now(UTC)
    assert decided.status_code == 202, decided.text
    assert decided.json() == {"referral_id": rid, "decision_id": f"DEC-{rid}", "outcome": "statutory_assessment",
                              "receiving_service": "assessment-team", "rating": "amber"}
    second = await desk.step(rid, "decision", {"outcome": "early_help", "rationale": "changed my mind"})
    assert second.status_code == 409
    assert "was decided by Mo Patel (MASH manager)" in second.json()["message"]

    [made] = await desk.events(DECISION_MADE, rid)
    assert made["event_id"] == str(derived_event_id(f"DEC-{rid}", "made"))
    decision = made["payload"]
    assert (decision["outcome"], decision["rating"], decision["route"]) == ("statutory_assessment", "amber", "enquiry")
    assert decision["decided_by"] == "Mo Patel (MASH manager)"
    assert decision["rationale"] == rationale
    assert decision["handoff_items"] == []
    assert sorted((h["agency"], h["item_id"], h["basis"]) for h in decision["released_items"]) == [
        ("health", "gp-1", "non_sensitive"), ("probation", "prob-1", "non_sensitive")]
    # the sealed item goes only as a reference: who holds it and how to ask (notify's "request it" notice)
    assert decision["withheld_items"] == [{"agency": "police", "item_id": "pol-1",
                                           "request_route": "Ask the police public protection unit, ext 4471"}]
    assert "father's associate" not in str(made)
    assert decision["agencies_consulted"] == agencies
    assert POLICE_INTELLIGENCE not in str(made)
    assert len(await desk.events(ENQUIRY_OPENED, rid)) == 1
    assert rid not in {e["referral_id"] for e in await desk.queue()}

    # --- the audit log: who viewed and who changed the case, when and why
    audit = await desk.audit(rid)
    assert [r["at"] for r in audit] == sorted(r["at"] for r in audit)
    steps = [(r["action"], r["who"], r["why"]) for r in audit if r["action"] != "view_case_file"]
    assert steps == [
        ("screen", "Jo Reed (screener)", "suggested rating confirmed"),
        ("open_enquiry", "Mo Patel (MASH manager)", PROCEED_REASON),
        ("decide", "Mo Patel (MASH manager)", rationale),
    ]
    [decide] = [r for r in audit if r["action"] == "decide"]
    # (the store keeps milliseconds)
    assert deciding - timedelta(milliseconds=1) <= datetime.fromisoformat(decide["at"]) <= decided_by
    views = {(r["who"], r["roles"], r["why"]) for r in audit if r["action"] == "view_case_file"}
    assert ("Ali Shah (analyst)", "analyst", "trend analysis of repeat referrals") in views
    assert ("Mo Patel (MASH manager)", "manager", "screening and decision") in views
    assert (await desk.http.get(f"/cases/{rid}/audit", headers=desk.analyst)).status_code == 403


async def test_the_queue_puts_breaches_first_then_least_time_left_then_the_more_serious(desk: Desk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    overdue_red = referral("scenario-2-antisocial-behaviour.json", rating=BragRating.RED,
                           received_at=now - timedelta(days=3))
    new_red = referral("scenario-4-sex-offender-warning.json", rating=BragRating.RED, received_at=now)
    new_green = referral("scenario-5-quiet-worry.json", rating=BragRating.GREEN, received_at=now)
    new_amber = referral("scenario-1-bike-theft.json", rating=BragRating.AMBER, received_at=now)
    for arriving in (new_green, new_red, new_amber, overdue_red):
        await desk.publish(REFERRAL_RECEIVED, referral_received(arriving))
    for arriving in (new_green, new_red, new_amber, overdue_red):
        await desk.case_in(arriving.referral_id, "awaiting_screening")

    queue = await desk.queue()
    assert [e["referral_id"] for e in queue] == [
        overdue_red.referral_id, new_red.referral_id, new_amber.referral_id, new_green.referral_id]
    overdue, red, amber, green = queue
    assert overdue["status"] == "breached"
    assert overdue["time_left"].startswith("overdue by ")
    assert overdue["time_left"].endswith("(continuous)")
    # three days ago, on a four-hour continuous target: overdue by 68 hours
    assert -68 * 60 - 2 <= overdue["minutes_left"] <= -68 * 60
    assert overdue["target"] == "red target: 4 hours (continuous)"
    # red runs on the 24/7 clock; amber and green on working hours, capped by one working day (8 working hours)
    assert red["status"] == "on_track"
    assert 4 * 60 - 3 <= red["minutes_left"] <= 4 * 60
    assert red["time_left"].endswith("(continuous)")
    for entry in (amber, green):
        assert entry["target"] == "one working day from referral"
        assert 8 * 60 - 3 <= entry["minutes_left"] <= 8 * 60
        assert entry["time_left"].endswith("(working)")
    assert amber["minutes_left"] == green["minutes_left"]  # same clock, same due time: the more serious first
