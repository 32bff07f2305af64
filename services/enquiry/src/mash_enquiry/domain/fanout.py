"""Fan-out: one enquiry becomes one request per named agency, each carrying only what that agency needs.

Data minimisation is enforced here. A request carries identifying details as the agency's
configuration allows, the questions, the due time, the lawful basis and the consent position; it
never carries the referrer, the referrer's narrative, or details the agency is not configured for.
"""

from __future__ import annotations

from mash_schemas import (
    Address,
    Consent,
    ConsentStatus,
    Enquiry,
    EnquiryRequest,
    HouseholdMember,
    Subject,
    derived_event_id,
)

from mash_enquiry.domain.agencies import Agency, AgencyDirectory, IdentifyingDetail

_SHORT_TEXT_LIMIT = 200


def request_id_for(enquiry_id: str, agency: str) -> str:
    """The request id for `agency` in enquiry `enquiry_id`: the same on every replay."""
    return str(derived_event_id(enquiry_id, f"enquiry.request/{agency}"))


def fan_out(enquiry: Enquiry, directory: AgencyDirectory) -> list[EnquiryRequest]:
    """One minimised request per agency the enquiry names, in its order (an agency named twice, once).

    Raises UnknownAgency, naming every agency the hub has no configuration for, before building any.
    """
    names = list(dict.fromkeys(enquiry.agencies))
    return [request_for(enquiry, agency) for agency in directory.require(names)]


def request_for(enquiry: Enquiry, agency: Agency) -> EnquiryRequest:
    """The request `agency` receives for `enquiry`."""
    return EnquiryRequest(
        request_id=request_id_for(enquiry.enquiry_id, agency.name),
        enquiry_id=enquiry.enquiry_id,
        referral_id=enquiry.referral_id,
        agency=agency.name,
        subjects=[_minimised_subject(subject, agency) for subject in enquiry.subjects],
        household=[_minimised_member(member, agency) for member in enquiry.household],
        questions=list(enquiry.questions),
        due_at=enquiry.due_at,
        lawful_basis=enquiry.lawful_basis,
        consent_position=consent_position(enquiry.consent),
    )


def consent_position(consent: Consent) -> str:
    """The consent position as agencies read it: given, or why the hub shares without it.

    Who recorded it stays in the hub. The contract allows 200 characters, so a long reason is cut
    (the full reason stays on the case file).
    """
    if consent.status is ConsentStatus.GIVEN:
        text = "Consent given"
        if consent.recorded_at is not None:
            text += f" (recorded {consent.recorded_at.date().isoformat()})"
    elif consent.status is ConsentStatus.REFUSED:
        text = f"Consent refused; information is shared without consent because: {consent.reason}"
    elif consent.status is ConsentStatus.OVERRIDDEN:
        text = f"Consent overridden; information is shared without consent because: {consent.reason}"
    else:
        text = f"Consent not sought because: {consent.reason}"
    return _fit(text)


def _minimised_subject(subject: Subject, agency: Agency) -> Subject:
    return Subject(
        subject_id=subject.subject_id,
        kind=subject.kind,
        given_name=subject.given_name,
        family_name=subject.family_name,
        date_of_birth=subject.date_of_birth,
        estimated_age=subject.estimated_age,
        expected_date=subject.expected_date,
        nhs_number=subject.nhs_number if agency.gets(IdentifyingDetail.NHS_NUMBER) else None,
        address=_minimised_address(subject.address, agency),
    )


def _minimised_member(member: HouseholdMember, agency: Agency) -> HouseholdMember:
    return HouseholdMember(
        given_name=member.given_name,
        family_name=member.family_name,
        relationship=member.relationship,
        date_of_birth=member.date_of_birth if agency.gets(IdentifyingDetail.HOUSEHOLD_DATES_OF_BIRTH) else None,
        address=_minimised_address(member.address, agency),
    )


def _minimised_address(address: Address | None, agency: Agency) -> Address | None:
    if address is None:
        return None
    minimised = Address(
        lines=list(address.lines) if agency.gets(IdentifyingDetail.ADDRESS_LINES) else [],
        town=address.town if agency.gets(IdentifyingDetail.TOWN) else None,
        postcode=address.postcode if agency.gets(IdentifyingDetail.POSTCODE) else None,
    )
    # An address with nothing left in it says nothing; send none rather than an empty shell.
    if not minimised.lines and minimised.town is None and minimised.postcode is None:
        return None
    return minimised


def _fit(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _SHORT_TEXT_LIMIT:
        return text
    return text[: _SHORT_TEXT_LIMIT - 1].rstrip() + "…"
