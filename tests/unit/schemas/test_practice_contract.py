"""The front door's reasoning on the contract: the Signs of Safety analysis and the child's voice (issue 23)."""

from __future__ import annotations

import pytest
from mash_schemas import AgencyResponse, ChildsVoice, RiskAnalysis, Views
from mash_schemas.practice import views_line
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_the_safety_scale_runs_from_0_to_10_and_is_always_given() -> None:
    assert RiskAnalysis(safety_scale=0).statements() == {}
    assert RiskAnalysis(harm="Bruise to the cheek", safety_scale=10).statements() == {"harm": "Bruise to the cheek"}
    for wrong in (-1, 11):
        with pytest.raises(ValidationError):
            RiskAnalysis(safety_scale=wrong)
    with pytest.raises(ValidationError):
        RiskAnalysis.model_validate({"harm": "x"})


def test_statements_are_the_contracts_text() -> None:
    with pytest.raises(ValidationError):
        RiskAnalysis(harm="   ", safety_scale=3)
    with pytest.raises(ValidationError):
        RiskAnalysis(harm="a\x00b", safety_scale=3)
    assert RiskAnalysis(next_steps="Visit\r\nthen call", safety_scale=3).next_steps == "Visit\nthen call"


def test_views_are_known_and_said_or_not_known_with_a_reason() -> None:
    assert views_line(Views(known=True, views="Wants to stay with nan")) == "Wants to stay with nan"
    line = views_line(Views(known=False, not_known_because="would_put_child_at_risk"))
    assert line == "Not known: seeking them would put the child at risk"
    for wrong in ({"known": True}, {"known": False}, {"known": False, "views": "x", "not_known_because": "too_young"},
                  {"known": True, "views": "x", "not_known_because": "too_young"}):
        with pytest.raises(ValidationError):
            Views.model_validate(wrong)


def test_parents_are_never_too_young() -> None:
    child = {"known": False, "not_known_because": "too_young"}
    assert ChildsVoice.model_validate({"child": child, "parents": {"known": True, "views": "Want help"}})
    with pytest.raises(ValidationError):
        ChildsVoice.model_validate({"child": child, "parents": child})


def test_an_agency_may_give_its_own_scale_and_an_older_agency_sends_none() -> None:
    base = {"request_id": "r", "enquiry_id": "e", "referral_id": "MASH-1", "agency": "police", "responded_by": "PC",
            "responded_at": "2026-12-01T10:00:00Z", "outcome": "nothing_known"}
    assert AgencyResponse.model_validate(base).safety_scale is None
    assert AgencyResponse.model_validate({**base, "safety_scale": 4}).safety_scale == 4
    with pytest.raises(ValidationError):
        AgencyResponse.model_validate({**base, "safety_scale": 12})
