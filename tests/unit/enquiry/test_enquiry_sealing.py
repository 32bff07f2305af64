"""Sealing sensitive items at rest (the hub's one sealing module, mash_runtime.sealing, as the enquiry store
uses it), rotating keys, and what logs may show of an item."""

from __future__ import annotations

import pytest
from mash_enquiry.domain.sensitivity import log_safe, log_safe_response
from mash_enquiry.store import open_item, seal_item
from mash_runtime.sealing import AtRestCipher, SealBroken, SealKeysInvalid
from mash_schemas import Sensitivity

from tests.unit.enquiry.enquiry_builders import an_answer, sensitive, shareable

pytestmark = pytest.mark.unit

SECRET = "Police intelligence: visitor suspected of sexual offences, not convicted"
OLD_KEY = AtRestCipher.generate_key()
NEW_KEY = AtRestCipher.generate_key()


def test_a_sealed_item_opens_to_the_same_item_and_its_token_hides_the_content() -> None:
    sealer = AtRestCipher([OLD_KEY])
    item = sensitive("p2", SECRET, wording="Police hold information relevant to the child's safety")

    token = seal_item(item, sealer)

    assert SECRET not in token
    assert "{" not in token  # a Fernet token is base64: no trace of the item's JSON (a short id could occur by chance)
    assert open_item(token, sealer) == item


def test_after_rotation_old_tokens_still_open_and_rotate_reseals_with_the_new_key() -> None:
    item = sensitive("p2", SECRET)
    old_token = seal_item(item, AtRestCipher([OLD_KEY]))
    rotated_sealer = AtRestCipher([NEW_KEY, OLD_KEY])

    assert open_item(old_token, rotated_sealer) == item  # readable during the rotation

    new_token = rotated_sealer.rotate(old_token)

    assert new_token != old_token
    assert open_item(new_token, AtRestCipher([NEW_KEY])) == item  # the old key can now be retired
    with pytest.raises(SealBroken):
        open_item(new_token, AtRestCipher([OLD_KEY]))
    assert open_item(seal_item(item, rotated_sealer), AtRestCipher([NEW_KEY])) == item  # new seals use the first key


def test_a_wrong_key_is_seal_broken_without_leaking_content() -> None:
    token = seal_item(sensitive("p2", SECRET), AtRestCipher([OLD_KEY]))

    with pytest.raises(SealBroken) as caught:
        open_item(token, AtRestCipher([NEW_KEY]))

    message = str(caught.value)
    assert SECRET not in message
    assert token not in message
    assert NEW_KEY not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    with pytest.raises(SealBroken):
        AtRestCipher([NEW_KEY]).rotate(token)


@pytest.mark.parametrize("token", ["not a token", "", "gAAAAAB" + "A" * 80, "ünïcode"])
def test_a_damaged_token_is_seal_broken(token: str) -> None:
    with pytest.raises(SealBroken):
        open_item(token, AtRestCipher([OLD_KEY]))


def test_a_tampered_token_is_seal_broken() -> None:
    token = seal_item(sensitive("p2", SECRET), AtRestCipher([OLD_KEY]))
    tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]

    with pytest.raises(SealBroken):
        open_item(tampered, AtRestCipher([OLD_KEY]))


@pytest.mark.parametrize("keys", [[], ["too-short"], [OLD_KEY, "x" * 44]])
def test_missing_or_malformed_keys_are_refused_without_showing_them(keys: list[str]) -> None:
    with pytest.raises(SealKeysInvalid) as caught:
        AtRestCipher(keys)

    assert all(key not in str(caught.value) for key in keys)


def test_a_single_key_must_still_be_given_as_a_list() -> None:
    with pytest.raises(SealKeysInvalid, match="list"):
        AtRestCipher(OLD_KEY)


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
