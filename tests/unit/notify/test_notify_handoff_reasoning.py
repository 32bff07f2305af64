"""The hand-off carries the front door's reasoning (issue 23): the sanctioned risk analysis and the child's voice,
and nothing sealed with them."""

from __future__ import annotations

import pytest
from mash_notify.domain.feedback import referrer_feedback
from mash_notify.domain.handoff import handoff_summary
from mash_notify.domain.rendering import render_feedback, render_handoff
from mash_schemas import ChildsVoice, RiskAnalysis

from tests.unit.notify.notify_builders import decision, sealed_item

pytestmark = pytest.mark.unit

INTELLIGENCE = "Intelligence suggests Mark Doyle is suspected of sexual offences against children in Northshire."
ANALYSIS = RiskAnalysis(harm="Lily came to school with a bruise.", strengths="Her aunt collects her most days.",
                        next_steps="Strategy discussion today.", safety_scale=3)
VOICE = ChildsVoice.model_validate({
    "child": {"known": True, "views": "Lily says she feels safe at her aunt's."},
    "parents": {"known": False, "not_known_because": "would_put_child_at_risk"}})


def test_the_hand_off_shows_the_analysis_by_column_with_its_scale_and_the_childs_voice() -> None:
    body = render_handoff(handoff_summary(decision(risk_analysis=ANALYSIS, childs_voice=VOICE))).body

    assert "What are we worried about?\n- Harm that has happened: Lily came to school with a bruise.\n" in body
    assert "What is working well?\n- Strengths: Her aunt collects her most days.\n" in body
    assert "What needs to happen?\n- Next steps: Strategy discussion today.\n" in body
    assert "Danger statements" not in body  # an empty statement is left out, not shown blank
    assert "Safety scale: 3 out of 10 (0: harm is certain to happen or happen again; 10:" in body
    assert "The child's wishes and feelings: Lily says she feels safe at her aunt's." in body
    assert "The parents' views: Not known: seeking them would put the child at risk" in body


def test_a_decision_without_them_hands_off_as_before() -> None:
    body = render_handoff(handoff_summary(decision())).body
    assert "Signs of Safety" not in body and "The child's voice" not in body


def test_sealed_text_quoted_in_a_legacy_decisions_analysis_is_cut_out() -> None:
    quoting = ANALYSIS.model_copy(update={"complicating_factors": f"Police say: {INTELLIGENCE}"})
    made = decision(items=[("police", sealed_item("P1", INTELLIGENCE))], legacy=True, risk_analysis=quoting)
    body = render_handoff(handoff_summary(made)).body
    assert INTELLIGENCE not in body
    assert "- Complicating factors: Police say: [withheld: sensitive information held by Police]" in body


def test_the_referrers_feedback_does_not_carry_the_analysis() -> None:
    made = decision(risk_analysis=ANALYSIS, childs_voice=VOICE)
    body = render_feedback(referrer_feedback(made)).body
    assert "bruise" not in body and "Safety scale" not in body and "aunt" not in body
