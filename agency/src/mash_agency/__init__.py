"""The agency kit: how a partner agency joins the hub as a virtual member.

An agency writes an adapter (`AgencyAdapter.search`) over its own records and runs the kit, which
reads the agency's enquiry requests from the hub's Kafka and publishes its answers.
"""

from mash_agency.adapter import AgencyAdapter, AgencyAnswer, AnswerWithoutRating, load_adapter
from mash_agency.answer import build_response, response_event_id
from mash_agency.kit import AgencyKit, EnquiryResponder, build_broker, build_kit
from mash_agency.settings import AgencySettings

__all__ = [
    "AgencyAdapter",
    "AgencyAnswer",
    "AgencyKit",
    "AgencySettings",
    "AnswerWithoutRating",
    "EnquiryResponder",
    "build_broker",
    "build_kit",
    "build_response",
    "load_adapter",
    "response_event_id",
]
