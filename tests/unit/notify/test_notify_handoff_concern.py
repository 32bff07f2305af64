"""The hand-off tells the receiving service what the concern is, without exposing a public referrer."""

from __future__ import annotations

import pytest
from mash_notify.domain.handoff import handoff_summary
from mash_notify.domain.rendering import render_handoff
from mash_schemas.common import ConcernCategory
from mash_schemas.referral import Concern

from tests.unit.notify.notify_builders import decision, member_of_public, professional

pytestmark = pytest.mark.unit

CONCERN = Concern(
    categories=[ConcernCategory.NEGLECT],
    narrative="Baby seen with severe nappy rash and the flat smelled of damp.",
    actions_taken="Advised mother to see the GP today.",
)


def test_a_professionals_concern_is_handed_off_in_their_words() -> None:
    text = render_handoff(handoff_summary(decision(referrer=professional(), concern=CONCERN))).body
    assert "severe nappy rash" in text
    assert "Advised mother to see the GP today." in text
    assert "neglect" in text


def test_a_member_of_the_publics_words_stay_in_the_hub_but_the_categories_go() -> None:
    text = render_handoff(handoff_summary(decision(referrer=member_of_public(), concern=CONCERN))).body
    assert "nappy rash" not in text
    assert "Advised mother" not in text
    assert "neglect" in text
    assert "own words are held by the hub" in text
