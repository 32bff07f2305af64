"""Westshire's research desk asks Eastshire as it asks any agency: the member `hub-eastshire` (issue 20).

Through the enquiry service's real bootstrap in memory with the region file: every other hub of the region
is a member of the directory, its request minimised like any agency's (NHS number and household dates of
birth, never an address), and its answer collated like any agency's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from mash_enquiry.bootstrap import EnquiryService, bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_runtime.region import load_region
from mash_schemas.agency import AgencyResponded, agency_producer_name, agency_response_event_id
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.topics import ENQUIRY_COMPLETED, ENQUIRY_OPENED, agency_response_topic, enquiry_request_topic

from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.support.transfer import RECEIVING, SENDING, two_hub_region
from tests.unit.enquiry.enquiry_builders import an_answer, an_enquiry

NEIGHBOUR = f"hub-{SENDING}"
# The harness runs the service in namespace "unit" and reads settings from a class attribute, so the region file
# is written when the module loads (under the git-ignored .cache/), with Westshire's namespace "unit".
REGION_FILE = two_hub_region("unit", Path(__file__).parents[3] / ".cache" / "test-region")[1]
UNIT_REGION = load_region(REGION_FILE).model_copy(update={"hubs": [
    hub.model_copy(update={"namespace": "unit"}) if hub.id == RECEIVING else hub
    for hub in load_region(REGION_FILE).hubs]})
UNIT_REGION_FILE = UNIT_REGION.write(REGION_FILE.with_name("region-unit.yaml"))


class NeighbourEnquiryScenarios:
    """Westshire's research desk with Eastshire as a member."""

    async def test_a_neighbouring_hub_is_asked_and_answers_like_any_agency(
        self, hub: RunningService[EnquiryService]
    ) -> None:
        assert hub.service.directory.agency(NEIGHBOUR).display_name == "Eastshire County Council (neighbouring hub)"
        enquiry = an_enquiry(["police", NEIGHBOUR], enquiry_id="ENQ-NB-1", referral_id="REF-NB-1",
                             due_at=MONDAY_MORNING.replace(hour=18))
        await hub.publish(EnquiryOpened.build(enquiry, correlation_id="REF-NB-1", producer="decision",
                                              occurred_at=MONDAY_MORNING), ENQUIRY_OPENED)

        def asked() -> dict[str, Any] | None:
            found = [e for e in hub.published(enquiry_request_topic(NEIGHBOUR))
                     if e["payload"]["enquiry_id"] == "ENQ-NB-1"]
            return found[0]["payload"] if found else None

        request = await hub.eventually(asked)
        subject = request["subjects"][0]
        assert subject["nhs_number"] is not None and subject["date_of_birth"] is not None
        assert subject.get("address") is None, "a neighbouring hub gets no address"

        for agency in ("police", NEIGHBOUR):
            response = an_answer(agency, None, at=hub.clock(), enquiry_id="ENQ-NB-1", referral_id="REF-NB-1")
            await hub.publish(AgencyResponded.build(
                response, correlation_id="REF-NB-1", producer=agency_producer_name(agency),
                event_id=agency_response_event_id(response.request_id, agency)), agency_response_topic(agency))

        def completed() -> dict[str, Any] | None:
            found = [e for e in hub.published(ENQUIRY_COMPLETED) if e["payload"]["enquiry_id"] == "ENQ-NB-1"]
            return found[0]["payload"] if found else None

        outcome = await hub.eventually(completed)
        assert sorted(f["agency"] for f in outcome["findings"]) == sorted(["police", NEIGHBOUR])


class TestNeighbourEnquiryInMemory(InMemory[EnquiryService], NeighbourEnquiryScenarios):
    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    settings_overrides: ClassVar[dict[str, Any]] = {"region_file": UNIT_REGION_FILE}
    outputs = (enquiry_request_topic(NEIGHBOUR), ENQUIRY_COMPLETED)


pytestmark = pytest.mark.unit
