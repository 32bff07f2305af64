"""Sealed for one reader: items encrypted for the decision service's key, opened only with it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st
from mash_decision.settings import DecisionSettings
from mash_enquiry.settings import EnquirySettings
from mash_runtime.transit import (
    DEVELOPMENT_TRANSIT_KEY_ID,
    DEVELOPMENT_TRANSIT_PRIVATE_KEY,
    DEVELOPMENT_TRANSIT_PUBLIC_KEY,
    TransitKeysInvalid,
    TransitOpener,
    TransitSealBroken,
    TransitSealer,
    generate_key_pair,
    key_id,
    load_public_key,
)
from mash_schemas import InformationItem, ReleaseCondition, Sensitivity
from mash_schemas.text import forbidden_character
from pydantic import ValidationError

pytestmark = pytest.mark.unit

# One generated pair per module: RSA key generation is the slow part.
NEW_PRIVATE, NEW_PUBLIC = generate_key_pair(bits=2048)
PRODUCTION: dict[str, Any] = {"environment": "production", "jwt_secret": "a-production-secret-of-some-length-0123456789",
              "sealing_keys": Fernet.generate_key().decode(), "oidc_issuer": "https://login.example.org"}


def sensitive(summary: str = "Intelligence graded B2 about Gary Pike.") -> InformationItem:
    return InformationItem(
        item_id="pol-1", about="Gary Pike", summary=summary, sensitivity=Sensitivity.SENSITIVE,
        release=ReleaseCondition(permitted=False, request_route="Call the police MASH desk."),
        rating_reason="Suspected of offences against children.",
    )


def test_an_item_sealed_for_decision_opens_with_decisions_key_and_shows_nothing_in_clear() -> None:
    sealed = TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", sensitive())
    wire = sealed.model_dump_json()
    for secret in ("Gary Pike", "graded B2", "offences against children", "police MASH desk"):
        assert secret not in wire
    assert (sealed.agency, sealed.item_id, sealed.key_id) == ("police", "pol-1", DEVELOPMENT_TRANSIT_KEY_ID)
    assert TransitOpener([DEVELOPMENT_TRANSIT_PRIVATE_KEY]).open("REF-1", sealed) == sensitive()


@settings(max_examples=25, deadline=None)
# Any text the contract accepts (mash_schemas.text: not blank, no control characters).
@given(summary=st.text(min_size=1, max_size=300).filter(
    lambda text: text.strip() != "" and forbidden_character(text, multiline=True) is None))
def test_any_item_round_trips_and_its_ciphertext_never_holds_its_text(summary: str) -> None:
    item = sensitive(summary)
    sealed = TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", item)
    opened = TransitOpener([DEVELOPMENT_TRANSIT_PRIVATE_KEY]).open("REF-1", sealed)
    assert opened == item
    if len(item.summary) >= 8:
        assert item.summary not in sealed.model_dump_json()


@pytest.mark.parametrize(("referral_id", "agency", "item_id"), [
    ("REF-2", "police", "pol-1"),   # moved onto another case
    ("REF-1", "health", "pol-1"),   # passed off as another agency's
    ("REF-1", "police", "pol-2"),   # under another item's id
])
def test_a_sealed_item_is_bound_to_its_referral_agency_and_item(referral_id: str, agency: str, item_id: str) -> None:
    sealed = TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", sensitive())
    moved = sealed.model_copy(update={"agency": agency, "item_id": item_id})
    with pytest.raises(TransitSealBroken) as refused:
        TransitOpener([DEVELOPMENT_TRANSIT_PRIVATE_KEY]).open(referral_id, moved)
    assert "Gary" not in str(refused.value)


def test_an_altered_ciphertext_is_refused_without_quoting_anything() -> None:
    sealed = TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", sensitive())
    raw = bytearray(base64.urlsafe_b64decode(sealed.ciphertext))
    raw[0] ^= 1
    altered = sealed.model_copy(update={"ciphertext": base64.urlsafe_b64encode(bytes(raw)).decode()})
    with pytest.raises(TransitSealBroken, match="could not be opened"):
        TransitOpener([DEVELOPMENT_TRANSIT_PRIVATE_KEY]).open("REF-1", altered)


def test_rotation_the_new_key_seals_and_the_old_key_still_opens_what_it_sealed() -> None:
    old = TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", sensitive())
    new = TransitSealer([NEW_PUBLIC, DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", sensitive())
    assert new.key_id == key_id(load_public_key(NEW_PUBLIC)) != old.key_id
    opener = TransitOpener([NEW_PRIVATE, DEVELOPMENT_TRANSIT_PRIVATE_KEY])
    assert opener.open("REF-1", old) == opener.open("REF-1", new) == sensitive()
    with pytest.raises(TransitSealBroken, match="does not hold"):
        TransitOpener([NEW_PRIVATE]).open("REF-1", old)


def test_keys_may_be_given_as_pem() -> None:
    private_pem = "-----BEGIN PRIVATE KEY-----\n" + NEW_PRIVATE + "\n-----END PRIVATE KEY-----\n"
    public_pem = "-----BEGIN PUBLIC KEY-----\n" + NEW_PUBLIC + "\n-----END PUBLIC KEY-----\n"
    sealed = TransitSealer([public_pem]).seal("REF-1", "police", sensitive())
    assert TransitOpener([private_pem]).open("REF-1", sealed) == sensitive()


def test_a_malformed_key_is_named_by_position_never_quoted() -> None:
    with pytest.raises(TransitKeysInvalid, match="public key 2 of 2") as refused:
        TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY, "bm90LWEta2V5"])
    assert "bm90" not in str(refused.value)
    with pytest.raises(TransitKeysInvalid):
        TransitOpener([])


def test_the_development_keys_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="development key may not be used in production"):
        DecisionSettings(**PRODUCTION)
    with pytest.raises(ValidationError, match="development key may not be used in production"):
        EnquirySettings(**PRODUCTION)
    with pytest.raises(ValidationError, match="development key may not be used in production"):
        DecisionSettings(**PRODUCTION, transit_private_keys=f"{NEW_PRIVATE},{DEVELOPMENT_TRANSIT_PRIVATE_KEY}")
    decision = DecisionSettings(**PRODUCTION, transit_private_keys=NEW_PRIVATE)
    enquiry = EnquirySettings(**PRODUCTION, decision_public_keys=NEW_PUBLIC)
    sealed = TransitSealer(enquiry.decision_public_key_list()).seal("REF-1", "police", sensitive())
    assert TransitOpener(decision.transit_private_key_list()).open("REF-1", sealed) == sensitive()


def test_the_associated_data_is_not_on_the_wire_but_binds_it() -> None:
    sealed = json.loads(TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal("REF-1", "police", sensitive())
                        .model_dump_json())
    assert set(sealed) == {"agency", "item_id", "algorithm", "key_id", "wrapped_key", "nonce", "ciphertext"}
