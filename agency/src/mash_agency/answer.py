"""Turn an agency's answer into the agency response event the hub expects.

The response's event id is derived from the request id and the agency, not from the request event:
a reminder is a new request event carrying the same request id, so answering the request and then
its reminder yields the same response event, which the hub stores once.
"""

from __future__ import annotations

from datetime import datetime

from mash_schemas import AgencyResponded, AgencyResponse, EnquiryRequested
from mash_schemas.agency import agency_producer_name, agency_response_event_id

from mash_agency.adapter import AgencyAnswer


class RequestForAnotherAgency(ValueError):
    """An enquiry request addressed to a different agency reached this agency's kit."""


# The contract owns the response's identity, so the hub's agency portal answers with the same one.
producer_name = agency_producer_name
response_event_id = agency_response_event_id


def build_response(
    request_event: EnquiryRequested, answer: AgencyAnswer, *, agency: str, now: datetime
) -> AgencyResponded:
    """The AgencyResponded event answering `request_event` with `answer`, as of `now`."""
    request = request_event.payload
    if request.agency != agency:
        raise RequestForAnotherAgency(
            f"request {request.request_id} is addressed to {request.agency!r}, not {agency!r}"
        )
    response = AgencyResponse(
        request_id=request.request_id,
        enquiry_id=request.enquiry_id,
        referral_id=request.referral_id,
        agency=agency,
        responded_by=answer.responded_by or f"{agency} (agency kit)",
        responded_at=now,
        outcome=answer.outcome,
        rating=answer.rating,
        safety_scale=answer.safety_scale,
        items=list(answer.items),
    )
    return AgencyResponded.build(
        response,
        correlation_id=request.referral_id,
        producer=producer_name(agency),
        causation_id=request_event.event_id,
        event_id=response_event_id(request.request_id, agency),
        occurred_at=now,
    )
