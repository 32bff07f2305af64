"""The neighbouring hubs' enquiries: this hub answers them from its case files, as a member agency would.

In a region, each other hub may include this one in its MASH enquiries as agency `hub-<this hub>`: the
request arrives on the asking hub's own request topic for that id, and the answer goes back on the asking
hub's response topic for it, through the same contract as every agency (docs/federation.md). Each answer
is stored once per request with its event (a reminder or a redelivery repeats nothing), audited as a
disclosure, and listed for the MASH manager.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal
from mash_runtime.clock import Clock, utc_now
from mash_runtime.outbox import OutboxEntry
from mash_runtime.region import Region, RegionHub, neighbour_agency_id
from mash_schemas.agency import AgencyResponded, agency_producer_name, agency_response_event_id
from mash_schemas.enquiry import EnquiryRequested
from mash_schemas.topics import agency_response_topic

from mash_decision.domain.neighbour_answer import neighbour_answer, request_subject_keys
from mash_decision.store import DecisionStore, NeighbourAnswerStore

log = logging.getLogger(__name__)


class NeighbourResponder:
    """This hub as a virtual member of its neighbours' enquiries."""

    def __init__(self, region: Region, hub: RegionHub, *, cases: DecisionStore, answers: NeighbourAnswerStore,
                 audit: AuditLog, clock: Clock = utc_now) -> None:
        self.region = region
        self.hub = hub
        self.agency = neighbour_agency_id(hub.id)
        self._cases = cases
        self._answers = answers
        self._audit = audit
        self._clock = clock

    def neighbours(self) -> list[RegionHub]:
        """The hubs that may ask this one (every other hub of the region)."""
        return self.region.neighbours(self.hub.id)

    async def answer(self, event: EnquiryRequested, asking: RegionHub) -> bool:
        """Answer one request of hub `asking` from this hub's records; False when it was answered already."""
        request = event.payload
        now: datetime = self._clock()
        cases = await self._cases.cases_about(request_subject_keys(request))
        response = neighbour_answer(request, cases, hub_name=self.hub.name, agency=self.agency, now=now)
        answered = AgencyResponded.build(
            response, correlation_id=request.referral_id, producer=agency_producer_name(self.agency),
            event_id=agency_response_event_id(request.request_id, self.agency))
        topic = asking.topic(agency_response_topic(self.agency))
        kept = await self._answers.keep_answer(
            request.request_id, asked_by=asking.id, answered_at=now, answer=response,
            event=OutboxEntry.of(answered, topic), event_id=str(event.event_id))
        if not kept:
            return False  # a reminder, or the same request again: one answer per request
        await self._audit.record(
            who=f"hub:{asking.id}", action="neighbour_disclosure", referral_id=None,
            why=f"MASH enquiry {request.enquiry_id} of {asking.name} ({request.lawful_basis})",
            what={"asked_by": asking.id, "request_id": request.request_id, "their_referral_id": request.referral_id,
                  "outcome": response.outcome, "items": [item.item_id for item in response.items],
                  "cases_found": [case.referral_id for case in cases]})
        log.info("neighbour enquiry answered", extra={"fields": {"asked_by": asking.id, "outcome": response.outcome,
                                                                 "request_id": request.request_id}})
        return True

    async def answers_given(self, principal: Principal) -> list[dict[str, Any]]:
        """Every answer this hub gave its neighbours, newest first (for the MASH manager; audited)."""
        given = await self._answers.answers()
        await self._audit.record(who=principal, action="view_neighbour_answers", referral_id=None,
                                 why="the answers given to neighbouring hubs", what={"shown": len(given)})
        return given
