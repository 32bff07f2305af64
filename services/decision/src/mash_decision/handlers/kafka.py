"""Subscribers: referrals from intake, corrections, and enquiry outcomes and addenda.

An event a rule of the case file refuses (an outcome for an enquiry the case never opened, a second and
different outcome for one already completed), or one holding an encrypted item this service's keys cannot
open, is rejected to the dead-letter topic at once: the rule will
refuse it again on every retry, and retrying would hold up the referrals behind it on the partition.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mash_runtime.consuming import MessageOrigin, MessageRejected, subscribe
from mash_runtime.region import RegionHub
from mash_runtime.service import ServiceRuntime
from mash_runtime.transit import TransitSealBroken
from mash_schemas.enquiry import EnquiryAddendumRecorded, EnquiryCompleted, EnquiryRequested
from mash_schemas.referral import ReferralAmended, ReferralReceived
from mash_schemas.subject_access import SubjectAccessPartAnswered, SubjectAccessPermissionAnswered
from mash_schemas.topics import (
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    REFERRAL_AMENDED,
    REFERRAL_RECEIVED,
    SUBJECT_ACCESS_PART,
    SUBJECT_ACCESS_PERMISSION_ANSWERED,
    enquiry_request_topic,
)

from mash_decision.desk import ManagersDesk
from mash_decision.domain.case_file import CaseFileError
from mash_decision.neighbour import NeighbourResponder
from mash_decision.subject_access_desk import SubjectAccessDesk


async def _refusal_rejected(step: Awaitable[None]) -> None:
    try:
        await step
    except CaseFileError as exc:
        raise MessageRejected(f"refused by the case file: {exc}") from exc
    except TransitSealBroken as exc:
        # Retrying opens nothing more; set aside with the reason (no content), replayable once keys are fixed.
        raise MessageRejected(f"a sensitive item could not be opened: {exc}") from exc


def subscribe_all(runtime: ServiceRuntime, desk: ManagersDesk) -> None:
    """Declare the desk's consumers."""

    async def on_referral(event: ReferralReceived, _: MessageOrigin) -> None:
        await _refusal_rejected(desk.open_case(event))

    async def on_amendment(event: ReferralAmended, _: MessageOrigin) -> None:
        await _refusal_rejected(desk.amend_case(event))

    async def on_completed(event: EnquiryCompleted, _: MessageOrigin) -> None:
        await _refusal_rejected(desk.record_enquiry(event))

    async def on_addendum(event: EnquiryAddendumRecorded, _: MessageOrigin) -> None:
        await _refusal_rejected(desk.record_addendum(event))

    runtime.subscribe(REFERRAL_RECEIVED, ReferralReceived, "decision.referrals", on_referral)
    runtime.subscribe(REFERRAL_AMENDED, ReferralAmended, "decision.amendments", on_amendment)
    runtime.subscribe(ENQUIRY_COMPLETED, EnquiryCompleted, "decision.enquiry-outcomes", on_completed)
    runtime.subscribe(ENQUIRY_ADDENDUM, EnquiryAddendumRecorded, "decision.enquiry-addenda", on_addendum)


def subscribe_subject_access_parts(runtime: ServiceRuntime, subject_access: SubjectAccessDesk) -> None:
    """Each service's part of a subject access request, kept on the request (issue 15)."""

    async def on_part(event: SubjectAccessPartAnswered, _: MessageOrigin) -> None:
        await subject_access.record_part(event)

    async def on_permission(event: SubjectAccessPermissionAnswered, _: MessageOrigin) -> None:
        await subject_access.record_permission(event)

    runtime.subscribe(SUBJECT_ACCESS_PART, SubjectAccessPartAnswered, "decision.subject-access-parts", on_part)
    runtime.subscribe(SUBJECT_ACCESS_PERMISSION_ANSWERED, SubjectAccessPermissionAnswered,
                      "decision.subject-access-permissions", on_permission)


def subscribe_neighbour_requests(runtime: ServiceRuntime, responder: NeighbourResponder) -> None:
    """One consumer per neighbouring hub, on that hub's request topic for this hub (`hub-<this hub>`).

    The topics are in the asking hubs' namespaces (their enquiry services create them), so they are named
    here in full rather than through this hub's namespace, and subscribed until they exist: a neighbour not
    yet deployed must not stop this hub's desk from starting. The groups are this hub's own.
    """

    def answering(asking: RegionHub) -> Callable[[EnquiryRequested, MessageOrigin], Awaitable[None]]:
        async def on_request(event: EnquiryRequested, _: MessageOrigin) -> None:
            if event.payload.agency != responder.agency:
                raise MessageRejected(f"a request for {event.payload.agency} on {responder.agency}'s topic")
            await responder.answer(event, asking)

        return on_request

    for asking in responder.neighbours():
        subscribe(runtime.broker, runtime.settings, topic=asking.topic(enquiry_request_topic(responder.agency)),
                  event_model=EnquiryRequested, group_id=runtime.settings.group(f"decision.neighbour.{asking.id}"),
                  handler=answering(asking), dead_letters=runtime.dead_letters, until_it_exists=True,
                  commits=runtime.commits)
