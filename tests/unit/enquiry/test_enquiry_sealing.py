"""Sealing sensitive items at rest, rotating keys, and what logs may show of an item."""

from __future__ import annotations

import pytest
from mash_enquiry.domain.exceptions import SealBroken, SealKeysInvalid
from mash_enquiry.domain.sealing import Sealer
from mash_enquiry.domain.sensitivity import log_safe, log_safe_response
from mash_schemas import Sensitivity

from tests.unit.enquiry.enquiry_builders import an_answer, sensitive, shareable

pytestmark = pytest.mark.unit

SECRET = "Police intelligence: visitor suspected of sexual offences, not convicted"
OLD_KEY = Sealer.generate_key()
NEW_KEY = Sealer.generate_key()


def test_a_sealed_item_opens_to_the_same_item_and_its_token_hides_the_content() -> None:
    sealer = Sealer([OLD_KEY])
    item = sensitive("p2", SECRET, wording="Police hold information relevant to the child's safety")

    token = sealer.seal(item)

    assert SECRET not in token
    assert "{" not in token  # a Fernet token is base64: no trace of the item's JSON (a short id could occur by chance)
    assert sealer.unseal(token) == item


def test_after_rotation_old_tokens_still_open_and_rotate_reseals_with_the_new_key() -> None:
    item = sensitive("p2", SECRET)
    old_token = Sealer([OLD_KEY]).seal(item)
    rotated_sealer = Sealer([NEW_KEY, OLD_KEY])

    assert rotated_sealer.unseal(old_token) == item  # readable during the rotation

    new_token = rotated_sealer.rotate(old_token)

    assert new_token != old_token
    assert Sealer([NEW_KEY]).unseal(new_token) == item  # the old key can now be retired
    with pytest.raises(SealBroken):
        Sealer([OLD_KEY]).unseal(new_token)
    assert Sealer([NEW_KEY]).unseal(rotated_sealer.seal(item)) == item  # new seals use the first key


def test_a_wrong_key_is_seal_broken_without_leaking_content() -> None:
    token = Sealer([OLD_KEY]).seal(sensitive("p2", SECRET))

    with pytest.raises(SealBroken) as caught:
        Sealer([NEW_KEY]).unseal(token)

    message = str(caught.value)
    assert SECRET not in message
    assert token not in message
    assert NEW_KEY not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    with pytest.raises(SealBroken):
        Sealer([NEW_KEY]).rotate(token)


@pytest.mark.parametrize("token", ["not a token", "", "gAAAAAB" + "A" * 80, "ünïcode"])
def test_a_damaged_token_is_seal_broken(token: str) -> None:
    with pytest.raises(SealBroken):
        Sealer([OLD_KEY]).unseal(token)


def test_a_tampered_token_is_seal_broken() -> None:
    token = Sealer([OLD_KEY]).seal(sensitive("p2", SECRET))
    tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]

    with pytest.raises(SealBroken):
        Sealer([OLD_KEY]).unseal(tampered)


@pytest.mark.parametrize("keys", [[], ["too-short"], [OLD_KEY, "x" * 44]])
def test_missing_or_malformed_keys_are_refused_without_showing_them(keys: list[str]) -> None:
    with pytest.raises(SealKeysInvalid) as caught:
        Sealer(keys)

    assert all(key not in str(caught.value) for key in keys)


def test_a_single_key_must_still_be_given_as_a_list() -> None:
    with pytest.raises(SealKeysInvalid, match="list"):
        Sealer(OLD_KEY)


def test_logs_see_an_items_agency_id_and_sensitivity_but_never_its_content() -> None:
    item = sensitive("p2", SECRET, wording="Police hold relevant information")

    view = log_safe(item, "police")

    assert view == {"agency": "police", "item_id": "p2", "sensitivity": Sensitivity.SENSITIVE.value}
    assert SECRET not in repr(view)
    assert "mother's partner" not in repr(view)
    assert "Police hold relevant information" not in repr(view)


def test_a_logged_response_lists_items_by_id_only() -> None:
    response = an_answer("police", [shareable("p1", "Call-out to the address"), sensitive("p2", SECRET)])

    view = log_safe_response(response)

    assert view["agency"] == "police"
    assert view["items"] == [
        {"item_id": "p1", "sensitivity": "non_sensitive", "agency": "police"},
        {"item_id": "p2", "sensitivity": "sensitive", "agency": "police"},
    ]
    assert SECRET not in repr(view)
    assert "Call-out" not in repr(view)
