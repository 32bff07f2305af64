"""Fan-out: one minimised request per agency; nobody gets more than its configuration allows."""

from __future__ import annotations

import pytest
from mash_enquiry.config import load_agencies, parse_agencies
from mash_enquiry.domain.exceptions import UnknownAgency
from mash_enquiry.domain.fanout import consent_position, fan_out, request_id_for
from mash_schemas import Consent, ConsentStatus, EnquiryRequest

from tests.unit.enquiry.enquiry_builders import DUE_AT, ENQUIRY_ID, OPENED_BY, RECORDED_BY, REFERRAL_ID, an_enquiry

pytestmark = pytest.mark.unit


def by_agency(requests: list[EnquiryRequest]) -> dict[str, EnquiryRequest]:
    return {request.agency: request for request in requests}


def test_one_request_per_named_agency_in_the_managers_order() -> None:
    requests = fan_out(an_enquiry(["education", "police", "health", "police"]), load_agencies())

    assert [request.agency for request in requests] == ["education", "police", "health"]
    for request in requests:
        assert request.enquiry_id == ENQUIRY_ID
        assert request.referral_id == REFERRAL_ID
        assert request.due_at == DUE_AT
        assert request.questions == ["Is anything known about the household?"]
        assert request.lawful_basis == "Children Act 1989 s17 with consent"
        assert request.reminder_number == 0


def test_health_gets_the_nhs_number_and_police_does_not() -> None:
    requests = by_agency(fan_out(an_enquiry(), load_agencies()))

    assert requests["health"].subjects[0].nhs_number == "9434765919"
    assert requests["police"].subjects[0].nhs_number is None
    assert requests["education"].subjects[0].nhs_number is None
    assert "9434765919" not in requests["police"].model_dump_json()


def test_address_lines_and_town_are_dropped_but_the_postcode_kept() -> None:
    requests = by_agency(fan_out(an_enquiry(), load_agencies()))

    for request in requests.values():
        address = request.subjects[0].address
        assert address is not None
        assert address.postcode == "EX1 2AB"
        assert address.lines == []
        assert address.town is None
        assert "Mill Lane" not in request.model_dump_json()


def test_names_dates_and_relationships_reach_everyone_household_dates_only_where_configured() -> None:
    requests = by_agency(fan_out(an_enquiry(), load_agencies()))

    for request in requests.values():
        subject = request.subjects[0]
        assert (subject.given_name, subject.family_name, str(subject.date_of_birth)) == ("Kai", "Turner", "2013-06-01")
        member = request.household[0]
        assert (member.given_name, member.family_name, member.relationship) == ("Dana", "Turner", "mother")
    assert str(requests["police"].household[0].date_of_birth) == "1988-02-14"
    assert requests["education"].household[0].date_of_birth is None


def test_an_agency_without_postcodes_gets_no_empty_address() -> None:
    directory = parse_agencies(
        """
agencies:
  police:
    display_name: Police
    receives: []
    reminder_contact: {channel: email, email: police@hub.example.org}
"""
    )

    (request,) = fan_out(an_enquiry(["police"]), directory)

    assert request.subjects[0].address is None
    assert request.household[0].address is None


def test_nobody_gets_the_referrer_the_narrative_or_who_in_the_hub_handled_it() -> None:
    # The request type has no place for the referrer or the concern's narrative at all ...
    assert not {"referrer", "narrative", "concern", "concerns", "opened_by"} & set(EnquiryRequest.model_fields)
    # ... and hub staff names on the enquiry do not leak into the request text.
    for request in fan_out(an_enquiry(), load_agencies()):
        text = request.model_dump_json()
        assert OPENED_BY not in text
        assert RECORDED_BY not in text


def test_request_ids_are_deterministic_and_distinct_per_agency() -> None:
    first = by_agency(fan_out(an_enquiry(), load_agencies()))
    again = by_agency(fan_out(an_enquiry(), load_agencies()))

    assert {agency: r.request_id for agency, r in first.items()} == {a: r.request_id for a, r in again.items()}
    assert len({request.request_id for request in first.values()}) == 3
    assert first["police"].request_id == request_id_for(ENQUIRY_ID, "police")
    assert request_id_for("enq-0002", "police") != request_id_for(ENQUIRY_ID, "police")


def test_an_enquiry_naming_an_agency_the_hub_lacks_is_refused_whole() -> None:
    with pytest.raises(UnknownAgency) as caught:
        fan_out(an_enquiry(["police", "fire-service"]), load_agencies())

    assert caught.value.agencies == ["fire-service"]


def test_the_consent_position_says_given_or_why_the_hub_shares_without_it() -> None:
    assert consent_position(Consent(status=ConsentStatus.GIVEN, recorded_by="x")) == "Consent given"
    refused = consent_position(
        Consent(status=ConsentStatus.REFUSED, reason="risk of significant harm to the child", recorded_by="x")
    )
    assert refused.startswith("Consent refused")
    assert "risk of significant harm to the child" in refused
    long_reason = "seeking consent would alert the alleged perpetrator " * 10
    not_sought = consent_position(Consent(status=ConsentStatus.NOT_SOUGHT, reason=long_reason, recorded_by="x"))
    assert not_sought.startswith("Consent not sought because: seeking consent")
    assert len(not_sought) <= 200


def test_the_request_carries_the_enquirys_consent_position() -> None:
    enquiry = an_enquiry(
        consent=Consent(status=ConsentStatus.NOT_SOUGHT, reason="s47: would place the child at risk", recorded_by="x")
    )

    for request in fan_out(enquiry, load_agencies()):
        assert request.consent_position == "Consent not sought because: s47: would place the child at risk"
