"""Subscribers: enquiries opened by the manager's desk, and each agency's answers on its own topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mash_runtime.consuming import MessageOrigin
from mash_runtime.service import ServiceRuntime
from mash_schemas.agency import AgencyResponded
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.topics import ENQUIRY_OPENED, agency_response_topic, enquiry_request_topic

from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.research_desk import ResearchDesk


def subscribe_all(runtime: ServiceRuntime, desk: ResearchDesk, directory: AgencyDirectory) -> None:
    """One consumer for opened enquiries; one per agency response topic, so agencies never share a queue."""

    async def on_opened(event: EnquiryOpened, _: MessageOrigin) -> None:
        await desk.open_enquiry(event)

    runtime.subscribe(ENQUIRY_OPENED, EnquiryOpened, "enquiry.opened", on_opened)
    for agency in directory.agencies.values():
        # The request topic is created here with the agency's partitions, before any request is sent.
        runtime.topic(enquiry_request_topic(agency.name), partitions=agency.partitions)
        runtime.subscribe(
            agency_response_topic(agency.name), AgencyResponded, f"enquiry.responses.{agency.name}",
            _responses_of(desk, agency.name), partitions=agency.partitions,
        )


def _responses_of(desk: ResearchDesk, agency: str) -> Callable[[AgencyResponded, MessageOrigin], Awaitable[None]]:
    async def on_response(event: AgencyResponded, _: MessageOrigin) -> None:
        await desk.take_response(event, agency)

    return on_response
