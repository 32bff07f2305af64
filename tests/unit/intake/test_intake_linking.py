"""Repeat-contact linking: earlier contacts about the same people within the window are linked once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mash_intake.domain.linking import DEFAULT_LINKING_WINDOW, EarlierContact, linked_referrals

from tests.unit.intake.intake_builders import NOW

pytestmark = pytest.mark.unit


def _contact(referral_id: str, days_ago: float, *refs: str) -> EarlierContact:
    return EarlierContact(
        referral_id=referral_id, received_at=NOW - timedelta(days=days_ago), person_refs=frozenset(refs)
    )


def test_contacts_about_the_same_person_within_28_days_are_linked_oldest_first() -> None:
    earlier = [
        _contact("R-3", 2, "P1"),
        _contact("R-1", 27, "P1", "P2"),
        _contact("R-old", 29, "P1"),
        _contact("R-other", 3, "P9"),
    ]

    assert timedelta(days=28) == DEFAULT_LINKING_WINDOW
    assert linked_referrals(earlier, {"P1"}, now=NOW) == ["R-1", "R-3"]


def test_the_window_is_a_parameter() -> None:
    earlier = [_contact("R-1", 20, "P1"), _contact("R-2", 40, "P1")]

    assert linked_referrals(earlier, {"P1"}, now=NOW, window=timedelta(days=7)) == []
    assert linked_referrals(earlier, {"P1"}, now=NOW, window=timedelta(days=90)) == ["R-2", "R-1"]


def test_a_contact_is_linked_once_and_never_to_itself() -> None:
    earlier = [_contact("R-1", 5, "P1"), _contact("R-1", 5, "P2"), _contact("R-new", 0, "P1")]

    assert linked_referrals(earlier, ["P1", "P2"], now=NOW, referral_id="R-new") == ["R-1"]


def test_an_unmatched_contact_links_to_nothing() -> None:
    assert linked_referrals([_contact("R-1", 1, "P1")], set(), now=NOW) == []


def test_contacts_after_now_are_not_earlier_contacts() -> None:
    assert linked_referrals([_contact("R-later", -1, "P1")], {"P1"}, now=NOW) == []


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        linked_referrals([], {"P1"}, now=NOW, window=timedelta(days=-1))
