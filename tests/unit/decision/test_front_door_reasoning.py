"""Issue 23 items 1-2, the front door's reasoning, through the decision service's real bootstrap (in memory).

Screening records the Signs of Safety analysis (three columns and a safety scale) and the child's voice beside
the BRAG rating; the manager sanctions the analysis with the decision, or changes it with a rationale (422 without), and the
screener's version stays on file; the decision carries both, without an agency's sealed words; with the hub's
`require_childs_voice` on (the default), a decision that does not say whether the child's and the parents' views are known
(or why not) is refused with a 422 naming `childs_voice`. For insight's threshold figures (item 3) decision.made
also carries the suggested and screened ratings, who screened, and whether each change had a rationale.
"""

from __future__ import annotations

from typing import Any

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings
from mash_runtime.roles import Role
from mash_schemas.topics import DECISION_MADE, ENQUIRY_COMPLETED, REFERRAL_RECEIVED

from tests.support.service_harness import InMemory
from tests.unit.decision.casebook import item
from tests.unit.decision.test_decision_use_cases import (
    OUTPUTS,
    SECRET,
    Hub,
    a_referral,
    about,
    case_file,
    case_in,
    completed,
    received,
    step,
)

pytestmark = pytest.mark.unit

ANALYSIS = {
    "harm": "Kai (7) came to school with a bruise to his cheek.",
    "danger_statements": "We are worried Kai will be hurt again when his mother's partner is at home.",
    "complicating_factors": "Mother's low mood; the partner's whereabouts are not known.",
    "strengths": "Kai's nan lives nearby and he talks about her warmly.",
    "existing_safety": "Mother took Kai to nan's the night of the incident.",
    "safety_goals": "Kai is not left alone with the partner.",
    "next_steps": "Enquiry with health and police; speak with nan.",
    "safety_scale": 4,
}
VOICE = {"child": {"known": True, "views": "Kai told his teacher he wants to stay at nan's."},
         "parents": {"known": False, "not_known_because": "not_yet_possible",
                     "detail": "Mother not reached yet; tried twice by phone."}}
DECISION = {"outcome": "statutory_assessment", "rationale": "Assessment for Kai and his mother."}


async def screened(hub: Hub, rid: str, body: dict[str, Any]) -> dict[str, Any]:
    await hub.publish(received(a_referral(rid)), REFERRAL_RECEIVED)
    await case_in(hub, rid, "awaiting_screening")
    status, answer = await step(hub, rid, "screening", {"rating": "amber", **body}, Role.SCREENER)
    assert status == 200, answer
    return await case_in(hub, rid, "awaiting_decision")


class ReasoningScenarios:
    """The reasoning beside the rating, wherever the service runs."""

    async def test_screening_records_the_analysis_and_the_manager_sanctions_it_with_the_decision(
            self, hub: Hub) -> None:
        rid = "MASH-SOS-1"
        view = await screened(hub, rid, {"risk_analysis": ANALYSIS, "childs_voice": VOICE})
        assert view["risk_analysis"] == ANALYSIS
        assert view["safety_scale_meaning"].startswith("0: harm is certain to happen or happen again; 10:")
        assert view["childs_voice"]["child"]["views"] == VOICE["child"]["views"]
        [record] = view["case_file"]["risk_analyses"]
        assert (record["stage"], record["role"]) == ("screening", "screener")

        status, made = await step(hub, rid, "decision", DECISION, Role.MANAGER)
        assert status == 202, made
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        assert decided["payload"]["risk_analysis"] == ANALYSIS
        assert decided["payload"]["childs_voice"]["parents"]["not_known_because"] == "not_yet_possible"
        after = await case_in(hub, rid, "decided")
        assert [r["stage"] for r in after["case_file"]["risk_analyses"]] == ["screening", "sanctioned"]
        assert any(line["what"] == "risk analysis sanctioned: safety scale 4/10" for line in after["case_file"]["history"])

    async def test_a_change_by_the_manager_needs_a_rationale_and_keeps_the_screeners_version(self, hub: Hub) -> None:
        rid = "MASH-SOS-2"
        await screened(hub, rid, {"risk_analysis": ANALYSIS, "childs_voice": VOICE})
        changed = {**ANALYSIS, "safety_scale": 2, "next_steps": "Strategy discussion today."}
        refused, problem = await step(hub, rid, "decision", {**DECISION, "risk_analysis": changed}, Role.MANAGER)
        assert refused == 422, problem
        assert [f["field"] for f in problem["fields"]] == ["risk_analysis_rationale"]
        why = "The partner was seen at the house last night."
        status, made = await step(hub, rid, "decision", {**DECISION, "risk_analysis": changed,
                                                         "risk_analysis_rationale": why}, Role.MANAGER)
        assert status == 202, made
        after = await case_in(hub, rid, "decided")
        screener, manager = after["case_file"]["risk_analyses"]
        assert (screener["stage"], screener["analysis"]) == ("screening", ANALYSIS)
        assert (manager["stage"], manager["analysis"], manager["rationale"]) == ("changed_by_manager", changed, why)
        assert after["risk_analysis"] == changed
        [line] = [h for h in after["case_file"]["history"] if h["what"].startswith("risk analysis changed")]
        assert "4/10 to 2/10" in line["what"] and line["why"] == why

    async def test_the_preview_shows_the_analysis_and_the_hand_off_never_carries_sealed_words(self, hub: Hub) -> None:
        rid = "MASH-SOS-3"
        await screened(hub, rid, {"risk_analysis": ANALYSIS, "childs_voice": VOICE})
        status, body = await step(hub, rid, "enquiry", {"agencies": ["health", "police"], "consent_check": "given"},
                                  Role.MANAGER)
        assert status == 202, body
        await hub.publish(completed(rid, sealed=item("pol-1", SECRET, sensitive=True, about="partner")),
                          ENQUIRY_COMPLETED)
        await case_in(hub, rid, "awaiting_decision")
        quoting = {**ANALYSIS, "complicating_factors": f"Police told us: {SECRET}"}
        voice = {**VOICE, "parents": {"known": True, "views": f"Mother says: {SECRET}"}}
        decision = {**DECISION, "risk_analysis": quoting, "risk_analysis_rationale": "What police hold.",
                    "childs_voice": voice}
        status, preview = await step(hub, rid, "decision/preview", decision, Role.MANAGER)
        assert status == 200, preview
        shown = preview["decision"]["risk_analysis"]
        assert shown["safety_scale"] == 4 and SECRET not in str(shown)
        assert shown["complicating_factors"] == "Police told us: [withheld: sensitive information held by police]"
        assert (await step(hub, rid, "decision", decision, Role.MANAGER))[0] == 202
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        assert SECRET not in str(decided)
        analysts_view = await case_file(hub, rid, Role.ANALYST)
        assert analysts_view is not None and SECRET not in str(analysts_view)
        managers_view = await case_file(hub, rid)
        assert managers_view is not None and SECRET in str(managers_view["case_file"]["risk_analyses"])
        assert SECRET in managers_view["childs_voice"]["parents"]["views"]  # the manager's own words, in the hub

    async def test_bad_reasoning_is_a_422_naming_the_field(self, hub: Hub) -> None:
        rid = "MASH-SOS-4"
        await hub.publish(received(a_referral(rid)), REFERRAL_RECEIVED)
        await case_in(hub, rid, "awaiting_screening")
        for wrong, field in (({**ANALYSIS, "safety_scale": 11}, "risk_analysis.safety_scale"),
                             ({**ANALYSIS, "harm": "  "}, "risk_analysis.harm")):
            status, problem = await step(hub, rid, "screening", {"rating": "amber", "risk_analysis": wrong},
                                         Role.SCREENER)
            assert status == 422, problem
            assert field in [f["field"] for f in problem["fields"]], problem
        status, problem = await step(hub, rid, "screening", {"rating": "amber", "childs_voice": {
            "child": {"known": False}, "parents": {"known": True, "views": "Want help."}}}, Role.SCREENER)
        assert status == 422, problem
        assert any(f["field"].startswith("childs_voice.child") for f in problem["fields"]), problem

    async def test_the_decision_carries_the_ratings_on_the_way_for_insight_whether_not_the_rationale(
            self, hub: Hub) -> None:
        """Issue 23 item 3: suggested, screened and decided ratings, who screened, and only whether each change
        had a rationale (the words stay on the case file), with the sanctioned safety scale."""
        rid = "MASH-SOS-8"
        why = "Nan is caring for Kai; lower than intake thought."
        await screened(hub, rid, {"rating": "green", "rationale": why, "risk_analysis": ANALYSIS, "childs_voice": VOICE})
        status, made = await step(hub, rid, "decision", {**DECISION, "rating": "amber"}, Role.MANAGER)
        assert status == 202, made
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        payload = decided["payload"]
        assert (payload["suggested_rating"], payload["screened_rating"], payload["rating"]) == ("amber", "green",
                                                                                                "amber")
        assert payload["screened_by"] and payload["decided_by"]
        assert payload["screening_rationale_recorded"] is True
        assert payload["rating_change_rationale_recorded"] is True
        assert payload["risk_analysis"]["safety_scale"] == 4
        assert why not in str({k: v for k, v in payload.items() if k != "rationale"})

    async def test_a_rating_kept_at_every_step_has_no_change_to_explain(self, hub: Hub) -> None:
        rid = "MASH-SOS-9"
        await screened(hub, rid, {"childs_voice": VOICE})
        assert (await step(hub, rid, "decision", DECISION, Role.MANAGER))[0] == 202
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        payload = decided["payload"]
        assert (payload["suggested_rating"], payload["screened_rating"], payload["rating"]) == ("amber",) * 3
        assert payload["screening_rationale_recorded"] is False
        assert payload["rating_change_rationale_recorded"] is None


class ChildsVoiceRequiredScenarios:
    """The hub's `require_childs_voice`, on by default: no decision without the child's voice."""

    async def test_a_decision_needs_the_childs_voice_from_screening_or_with_it(self, hub: Hub) -> None:
        rid = "MASH-SOS-6"
        await screened(hub, rid, {})
        status, problem = await step(hub, rid, "decision", DECISION, Role.MANAGER)
        assert status == 422, problem
        assert [f["field"] for f in problem["fields"]] == ["childs_voice"]
        status, problem = await step(hub, rid, "decision/preview", DECISION, Role.MANAGER)
        assert status == 422 and problem["fields"][0]["field"] == "childs_voice", problem
        too_young = {"child": {"known": False, "not_known_because": "too_young"},
                     "parents": {"known": False, "not_known_because": "would_put_child_at_risk"}}
        status, made = await step(hub, rid, "decision", {**DECISION, "childs_voice": too_young}, Role.MANAGER)
        assert status == 202, made
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        assert decided["payload"]["childs_voice"]["child"]["not_known_because"] == "too_young"

    async def test_the_childs_voice_recorded_at_screening_is_enough(self, hub: Hub) -> None:
        rid = "MASH-SOS-7"
        await screened(hub, rid, {"childs_voice": VOICE})
        assert (await step(hub, rid, "decision", DECISION, Role.MANAGER))[0] == 202
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        assert decided["payload"]["childs_voice"]["child"]["known"] is True


class TestReasoningInMemory(InMemory[DecisionService], ReasoningScenarios):
    """The reasoning on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS


class TestChildsVoiceRequiredInMemory(InMemory[DecisionService], ChildsVoiceRequiredScenarios):
    """`require_childs_voice` as every hub runs it (the default), in memory."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS


class TestChildsVoiceNotRequiredInMemory(InMemory[DecisionService]):
    """A hub that turns `require_childs_voice` off (one replaying decisions recorded before the hub asked for
    the child's voice) takes a decision without it, as before issue 23."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    settings_overrides = {"require_childs_voice": False}
    outputs = OUTPUTS

    async def test_a_decision_without_the_childs_voice_is_taken_as_before(self, hub: Hub) -> None:
        rid = "MASH-SOS-5"
        await screened(hub, rid, {})
        assert (await step(hub, rid, "decision", DECISION, Role.MANAGER))[0] == 202
        [decided] = await hub.eventually(lambda: about(hub, DECISION_MADE, rid))
        assert decided["payload"]["childs_voice"] is None and decided["payload"]["risk_analysis"] is None
