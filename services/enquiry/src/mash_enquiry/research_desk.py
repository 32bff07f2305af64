"""The research desk's use cases: open an enquiry, take agencies' answers, chase and complete on time.

Each use case loads the enquiry record, lets the domain decide, and stores the record (sensitive items
sealed) together with the events it gives rise to, in one write. Sensitive items leave this service only
encrypted for the decision service's key (`mash_runtime.transit`): on enquiry.completed and
enquiry.addendum, a reader without that key sees the agency and the item's id, nothing else.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from mash_runtime.clock import Clock, utc_now
from mash_runtime.consuming import MessageRejected
from mash_runtime.http import DomainError
from mash_runtime.outbox import OutboxEntry
from mash_runtime.settings import HubSettings
from mash_runtime.transit import TransitSealer
from mash_schemas.agency import AgencyResponded, agency_producer_name, agency_response_event_id
from mash_schemas.enquiry import (
    EncryptedItem,
    EnquiryAddendum,
    EnquiryAddendumRecorded,
    EnquiryCompleted,
    EnquiryOpened,
    EnquiryOutcome,
    EnquiryRequest,
    EnquiryRequested,
    SealedItem,
)
from mash_schemas.envelope import derived_event_id
from mash_schemas.topics import (
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    agency_response_topic,
    enquiry_request_topic,
)

from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.domain.enquiry_record import Accepted, Duplicate, EnquiryRecord, Late, Rejected
from mash_enquiry.domain.exceptions import UnknownAgency
from mash_enquiry.domain.portal import AgencyAnswerForm
from mash_enquiry.domain.sensitivity import log_safe_response
from mash_enquiry.store import EnquiryStore

log = logging.getLogger(__name__)
PRODUCER = "enquiry"


# The portal's refusals are HTTP answers (DomainError carries the status), so they live with the use case,
# not in the domain, which imports no web framework.
class PortalRequestNotFound(DomainError):
    """The agency has no request in that enquiry (or the enquiry does not exist)."""

    status = 404


class PortalAlreadyAnswered(DomainError):
    """The agency has answered this request already; one answer per request."""

    status = 409


class ResearchDesk:
    """Runs MASH enquiries across the partner agencies in the directory."""

    def __init__(
        self, settings: HubSettings, store: EnquiryStore, *, directory: AgencyDirectory, transit: TransitSealer,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._store = store
        self._directory = directory
        self._transit = transit
        # The one source of "now" for every use case, so a test moves time instead of waiting for it.
        self._clock = clock

    def _request_event(self, request: EnquiryRequest) -> OutboxEntry:
        event = EnquiryRequested.build(
            request,
            correlation_id=request.referral_id,
            producer=PRODUCER,
            event_id=derived_event_id(request.request_id, f"request/{request.reminder_number}"),
        )
        return OutboxEntry.of(event, self._settings.topic(enquiry_request_topic(request.agency)))

    def _encrypted(self, referral_id: str, sealed: list[SealedItem]) -> list[EncryptedItem]:
        return [self._transit.seal(referral_id, each.agency, each.item) for each in sealed]

    def wire_outcome(self, outcome: EnquiryOutcome) -> EnquiryOutcome:
        """The outcome as it goes on enquiry.completed: sensitive items encrypted for the decision service."""
        encrypted = self._encrypted(outcome.referral_id, outcome.sealed)
        return outcome.model_copy(update={"sealed": [], "encrypted": [*outcome.encrypted, *encrypted]})

    def wire_addendum(self, addendum: EnquiryAddendum) -> EnquiryAddendum:
        """The addendum as it goes on enquiry.addendum: sensitive items encrypted for the decision service."""
        encrypted = self._encrypted(addendum.referral_id, addendum.sealed)
        return addendum.model_copy(update={"sealed": [], "encrypted": [*addendum.encrypted, *encrypted]})

    def _completion_events(self, record: EnquiryRecord, now: datetime) -> list[OutboxEntry]:
        outcome = self.wire_outcome(record.complete(now))
        event = EnquiryCompleted.build(
            outcome, correlation_id=outcome.referral_id, producer=PRODUCER,
            event_id=derived_event_id(outcome.enquiry_id, "completed"),
        )
        log.info("enquiry completed", extra={"fields": {
            "enquiry_id": outcome.enquiry_id, "completion": outcome.completion, "not_answered": outcome.not_answered}})
        return [OutboxEntry.of(event, self._settings.topic(ENQUIRY_COMPLETED))]

    async def open_enquiry(self, event: EnquiryOpened) -> None:
        """Fan the enquiry out: one minimised request per agency on that agency's own topic."""
        enquiry = event.payload

        def decide(current: EnquiryRecord | None) -> tuple[EnquiryRecord, list[OutboxEntry]] | None:
            if current is not None:
                return None  # one record per enquiry
            try:
                record = EnquiryRecord.open(enquiry, self._directory, event.occurred_at)
            except UnknownAgency as exc:
                raise MessageRejected(f"enquiry names agencies the hub has not configured: {exc}") from exc
            return record, [self._request_event(request) for request in record.requests.values()]

        if await self._store.change_enquiry(enquiry.enquiry_id, decide, event_id=str(event.event_id)):
            log.info("enquiry fanned out", extra={"fields": {"enquiry_id": enquiry.enquiry_id,
                                                             "agencies": enquiry.agencies}})

    async def take_response(self, event: AgencyResponded, topic_agency: str) -> None:
        """An agency answered on its own topic: keep it once, complete if all answered, addendum if late."""
        response = event.payload
        if response.agency != topic_agency:
            raise MessageRejected(
                f"response from agency {response.agency!r} arrived on the topic of agency {topic_agency!r}"
            )
        now = self._clock()

        def decide(record: EnquiryRecord | None) -> tuple[EnquiryRecord, list[OutboxEntry]] | None:
            if record is None:
                raise MessageRejected(f"the response names an unknown enquiry {response.enquiry_id!r}")
            verdict = record.record_response(response, now)
            if isinstance(verdict, Rejected):
                raise MessageRejected(verdict.reason)
            if isinstance(verdict, Duplicate):
                return None
            events: list[OutboxEntry] = []
            if isinstance(verdict, Late):
                addendum = EnquiryAddendumRecorded.build(
                    self.wire_addendum(verdict.addendum), correlation_id=response.referral_id, producer=PRODUCER,
                    event_id=derived_event_id(response.request_id, "addendum"),
                )
                events.append(OutboxEntry.of(addendum, self._settings.topic(ENQUIRY_ADDENDUM)))
            elif isinstance(verdict, Accepted) and record.completion_due(now):
                events += self._completion_events(record, now)
            return record, events

        await self._store.change_enquiry(response.enquiry_id, decide, event_id=str(event.event_id))
        log.info("agency response taken", extra={"fields": log_safe_response(response)})

    async def sweep(self) -> None:
        """Send reminders that are due and complete enquiries whose due time has come."""
        now = self._clock()

        def decide(record: EnquiryRecord | None) -> tuple[EnquiryRecord, list[OutboxEntry]] | None:
            return self._chase_or_complete(record, now) if record is not None else None

        for enquiry_id in await self._store.due(now):
            await self._store.change_enquiry(enquiry_id, decide)

    def _chase_or_complete(
        self, record: EnquiryRecord, now: datetime
    ) -> tuple[EnquiryRecord, list[OutboxEntry]] | None:
        events: list[OutboxEntry] = []
        if record.completion_due(now):
            events += self._completion_events(record, now)
        else:
            for due in record.reminders_due(now):
                record.mark_reminded(due.agency, due.number, now)
                events.append(self._request_event(due.request))
                log.info("agency reminded", extra={"fields": {"enquiry_id": record.enquiry_id,
                                                              "agency": due.agency, "reminder": due.number}})
        if not events:
            return None
        return record, events

    async def status(self, enquiry_id: str) -> dict[str, Any] | None:
        """Who was asked, who answered, reminders sent: the desk's view, no item content."""
        kept = await self._store.enquiry(enquiry_id)
        if kept is None:
            return None
        record = kept.record
        return {
            "enquiry_id": enquiry_id,
            "referral_id": record.enquiry.referral_id,
            "state": record.state.value,
            "due_at": record.enquiry.due_at.isoformat(),
            "agencies": record.agencies,
            "answered": sorted(record.responses),
            "answered_late": sorted(record.late_responses),
            "not_answered": record.unanswered,
            "reminders": {agency: record.last_reminder(agency) for agency in record.agencies},
        }

    # --- the agency portal: a partner without IT integration answers on the hub's pages --------------

    async def open_requests(self, agency: str) -> list[dict[str, Any]]:
        """The requests `agency` has not yet answered in enquiries still open, soonest due first.

        What a portal user sees is exactly what the kit would receive on the agency's topic: the
        minimised request (no referrer, no narrative), its due time and the reminders sent.
        """
        self._directory.agency(agency)
        found: list[dict[str, Any]] = []
        for kept in await self._store.open_with_request_to(agency):
            if agency in kept.record.unanswered and agency not in kept.portal_answered:
                found.append(self._request_view(kept.record, agency))
        return sorted(found, key=lambda view: (view["due_at"], view["enquiry_id"]))

    async def open_request(self, agency: str, enquiry_id: str) -> dict[str, Any] | None:
        """One request to `agency`, or None when there is none (never another agency's)."""
        self._directory.agency(agency)
        kept = await self._store.enquiry(enquiry_id)
        if kept is None:
            return None
        record = kept.record
        if agency not in record.requests:
            return None
        view = self._request_view(record, agency)
        view["answered"] = agency not in record.unanswered or agency in kept.portal_answered
        return view

    def _request_view(self, record: EnquiryRecord, agency: str) -> dict[str, Any]:
        request = record.requests[agency]
        return {
            **request.model_dump(mode="json"),
            "reminder_number": record.last_reminder(agency),
            "open": record.state.value == "open",
        }

    async def answer_for(self, agency: str, enquiry_id: str, answer: AgencyAnswerForm, by: str) -> str:
        """Publish the portal's answer on the agency's own response topic, as the kit would.

        The answer is stored in the enquiry record's outbox (one write, so a 202 means it will be
        published); the relay puts it on `agency.response.<agency>` and the desk takes it from there
        like any agency's answer. Its event id is the kit's, so the same request answered twice is
        stored once. Returns the request id.
        """
        now = self._clock()
        sent: dict[str, str] = {}

        def already() -> PortalAlreadyAnswered:
            return PortalAlreadyAnswered(f"{agency} has already answered this request", field="enquiry_id")

        def decide(record: EnquiryRecord | None) -> tuple[EnquiryRecord, list[OutboxEntry]]:
            if record is None:
                raise PortalRequestNotFound(f"no enquiry {enquiry_id}", field="enquiry_id")
            request = record.requests.get(agency)
            if request is None:
                raise PortalRequestNotFound(f"agency {agency} was not asked in enquiry {enquiry_id}",
                                            field="enquiry_id")
            if agency not in record.unanswered:
                raise already()
            response = answer.response(request, by, now)
            event = AgencyResponded.build(
                response, correlation_id=request.referral_id, producer=agency_producer_name(agency),
                event_id=agency_response_event_id(request.request_id, agency), occurred_at=now,
            )
            sent["request_id"] = request.request_id
            return record, [OutboxEntry.of(event, self._settings.topic(agency_response_topic(agency)))]

        # The store marks the answer queued with it, and refuses a second one from the portal (False).
        if not await self._store.change_enquiry(enquiry_id, decide, portal_answer=agency):
            raise already()
        log.info("portal answer queued", extra={"fields": {"enquiry_id": enquiry_id, "agency": agency,
                                                           "outcome": answer.outcome}})
        return sent["request_id"]
