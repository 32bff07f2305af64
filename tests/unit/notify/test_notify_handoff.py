"""The hand-off gate: what reaches the receiving service, and what the sealed hub keeps back."""

from __future__ import annotations

import json

import pytest
from mash_notify.domain.handoff import (
    HandoffSummary,
    SealedHubBreachError,
    SharedItem,
    WithheldNotice,
    handoff_summary,
)
from mash_notify.domain.rendering import render_handoff
from mash_schemas import AllocatedWorker, Outcome
from mash_schemas.common import Consent, ConsentStatus
from mash_schemas.governance import LawfulBasis

from tests.unit.notify.notify_builders import (
    POLICE_ROUTE,
    child,
    decision,
    member_of_public,
    professional,
    sealed_item,
    shared_item,
)

pytestmark = pytest.mark.unit

INTELLIGENCE = "Intelligence suggests Mark Doyle is suspected of sexual offences against children in Northshire."


def test_non_sensitive_items_go_in_full_with_whom_they_concern() -> None:
    summary = handoff_summary(
        decision(items=[("health", shared_item("H1", "Mother saw her GP three times in March; not coping."))])
    )

    assert summary.shared_items == [
        SharedItem(
            agency="health",
            agency_name="Health",
            item_id="H1",
            basis="non_sensitive",
            about="mother",
            wording="Mother saw her GP three times in March; not coping.",
        )
    ]
    assert summary.withheld_notices == []


def test_a_sealed_item_becomes_a_notice_naming_the_agency_and_the_route() -> None:
    summary = handoff_summary(decision(items=[("police", sealed_item("P1", INTELLIGENCE))]), {"police": "Police"})

    assert summary.shared_items == []
    assert [notice.wording for notice in summary.withheld_notices] == [
        f"Police holds information relevant to Lily Evans's safety. To request it: {POLICE_ROUTE}."
    ]
    assert INTELLIGENCE not in summary.model_dump_json()


def test_a_released_item_goes_only_in_the_permitted_wording() -> None:
    wording = "Police hold information that a visitor to the home poses a risk to children."
    summary = handoff_summary(
        decision(items=[("police", sealed_item("P1", INTELLIGENCE, permitted=True, wording=wording))])
    )

    assert [(item.wording, item.basis, item.about) for item in summary.shared_items] == [
        (wording, "released_by_agency", None)
    ]
    assert summary.withheld_notices == []
    dumped = summary.model_dump_json()
    assert INTELLIGENCE not in dumped
    assert "mother's partner" not in dumped  # whom a sealed item concerns is sealed too


def test_one_notice_per_agency_and_route_however_many_items_are_sealed() -> None:
    summary = handoff_summary(
        decision(
            items=[
                ("police", sealed_item("P1", "First piece of police intelligence held.")),
                ("police", sealed_item("P2", "Second piece of police intelligence held.")),
                ("probation", sealed_item("B1", "Probation risk assessment.", route="Ask the probation duty officer")),
            ]
        )
    )

    assert [(notice.agency, notice.request_route) for notice in summary.withheld_notices] == [
        ("police", POLICE_ROUTE),
        ("probation", "Ask the probation duty officer"),
    ]


def test_the_notice_names_every_subject() -> None:
    summary = handoff_summary(
        decision(
            items=[("police", sealed_item("P1", INTELLIGENCE))],
            subjects=[child("Lily"), child("Tom")],
        )
    )

    assert "relevant to Lily Evans's and Tom Evans's safety" in summary.withheld_notices[0].wording


def test_a_member_of_the_public_is_not_identified() -> None:
    summary = handoff_summary(decision(referrer=member_of_public()))
    text = render_handoff(summary).body

    assert summary.referrer is None
    assert summary.referrer_is_member_of_public
    assert "Dana Whitlock" not in text
    assert "worried.neighbour@example.org" not in text
    assert "Dana Whitlock" not in summary.model_dump_json()
    assert "A member of the public" in text


def test_a_professional_referrer_is_named() -> None:
    summary = handoff_summary(decision(referrer=professional()))
    text = render_handoff(summary).body

    assert summary.referrer is not None
    assert "Priya Shah, designated safeguarding lead, Hill Primary School" in text


def test_sealed_text_quoted_in_the_rationale_of_a_legacy_decision_is_cut_out() -> None:
    # A decision written before decision.made stopped carrying whole items; the decision service now cuts
    # sealed text out of the rationale itself (tests/unit/decision/test_case_file.py).
    summary = handoff_summary(
        decision(
            items=[("police", sealed_item("P1", INTELLIGENCE))],
            rationale=f"Red because police told us: {INTELLIGENCE.upper()} Education confirms a child lives there.",
            legacy=True,
        )
    )

    assert INTELLIGENCE.lower() not in summary.rationale.lower()
    assert "[withheld: sensitive information held by Police]" in summary.rationale
    assert summary.rationale.endswith("Education confirms a child lives there.")


def test_the_gate_stops_a_legacy_hand_off_that_would_carry_sealed_text_another_way() -> None:
    # Health's shareable note happens to repeat police's sealed intelligence word for word.
    with pytest.raises(SealedHubBreachError) as stopped:
        handoff_summary(
            decision(
                items=[
                    ("police", sealed_item("P1", INTELLIGENCE)),
                    ("health", shared_item("H1", f"Neighbour told the health visitor: {INTELLIGENCE}")),
                ],
                legacy=True,
            )
        )

    assert (stopped.value.agency, stopped.value.item_id) == ("police", "P1")


def test_an_agency_may_repeat_its_own_sealed_text_in_the_wording_it_permits() -> None:
    item = sealed_item("P1", INTELLIGENCE, permitted=True, wording=f"As held: {INTELLIGENCE}")
    for legacy in (False, True):
        summary = handoff_summary(decision(items=[("police", item)], legacy=legacy))

        assert summary.shared_items[0].wording == f"As held: {INTELLIGENCE}"


def test_a_current_decision_carries_no_sealed_text_and_still_says_whom_to_ask() -> None:
    wording = "Police hold information that a visitor to the home poses a risk to children."
    items = [("police", sealed_item("P1", INTELLIGENCE)),
             ("police", sealed_item("P2", "Second police intelligence item.", permitted=True, wording=wording)),
             ("health", shared_item("H1", "Mother saw her GP three times in March."))]
    current, legacy = decision(items=items), decision(items=items, legacy=True)

    assert current.handoff_items == []
    assert INTELLIGENCE not in current.model_dump_json()
    assert "mother's partner" not in current.model_dump_json()
    assert handoff_summary(current, {"police": "Police"}) == handoff_summary(legacy, {"police": "Police"})
    assert [n.wording for n in handoff_summary(current, {"police": "Police"}).withheld_notices] == [
        f"Police holds information relevant to Lily Evans's safety. To request it: {POLICE_ROUTE}."
    ]


def test_the_summary_models_have_nowhere_to_put_an_item_itself() -> None:
    # Structural guard: if someone adds a field that can hold an InformationItem or its summary,
    # templates could reach the sealed text. Only the gate's own fields are allowed.
    assert set(WithheldNotice.model_fields) == {"agency", "agency_name", "request_route", "wording"}
    assert set(SharedItem.model_fields) == {"agency", "agency_name", "item_id", "basis", "about", "wording"}
    assert "handoff_items" not in HandoffSummary.model_fields


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_has_a_hand_off_that_renders(outcome: Outcome) -> None:
    summary = handoff_summary(
        decision(
            outcome=outcome,
            items=[("education", shared_item("E1", "Attendance 71% this term.", about="Lily Evans"))],
            allocated_worker=AllocatedWorker(name="Jo Reid", team="Exeter North", email="jo.reid@example.org"),
        )
    )
    rendered = render_handoff(summary)

    assert "R-2025-0042" in rendered.subject
    assert "Lily" not in rendered.subject  # subject lines show in inbox lists
    assert "Education (about Lily Evans): Attendance 71% this term." in rendered.body
    assert "Jo Reid, Exeter North" in rendered.body
    assert summary.rationale in rendered.body
    assert json.loads(summary.model_dump_json())["outcome"] == outcome.value


def test_the_hand_off_shows_the_notice_and_says_when_nothing_is_shared() -> None:
    body = render_handoff(handoff_summary(decision(items=[("police", sealed_item("P1", INTELLIGENCE))]))).body

    assert "No agency information is shared with this hand-off." in body
    assert "Police holds information relevant to Lily Evans's safety." in body
    assert INTELLIGENCE not in body


def test_the_hand_off_says_on_what_basis_the_hub_shares_and_the_consent_position() -> None:
    basis = LawfulBasis(article_6="UK GDPR Art. 6(1)(e) public task",
                        article_9="UK GDPR Art. 9(2)(g) substantial public interest",
                        dpa_2018_condition="DPA 2018 Sch. 1 para 18 safeguarding of children")
    consent = Consent(status=ConsentStatus.OVERRIDDEN, reason="Telling the father would put the child at risk",
                      recorded_by="Mo Patel (MASH manager)")
    rendered = render_handoff(handoff_summary(decision(lawful_basis=basis, consent=consent)))

    assert ("Lawful basis: UK GDPR Art. 6(1)(e) public task; UK GDPR Art. 9(2)(g) substantial public interest; "
            "DPA 2018 Sch. 1 para 18 safeguarding of children") in rendered.body
    assert "Consent overridden: Telling the father would put the child at risk" in rendered.body
