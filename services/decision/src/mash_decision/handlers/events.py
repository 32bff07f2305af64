"""Subscribers: referrals from intake, corrections, and enquiry outcomes and addenda."""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin
from mash_runtime.service import ServiceRuntime
from mash_schemas.enquiry import EnquiryAddendumRecorded, EnquiryCompleted
from mash_schemas.referral import ReferralAmended, ReferralReceived
from mash_schemas.topics import ENQUIRY_ADDENDUM, ENQUIRY_COMPLETED, REFERRAL_AMENDED, REFERRAL_RECEIVED

from mash_decision.desk import ManagersDesk


def subscribe_all(runtime: ServiceRuntime, desk: ManagersDesk) -> None:
    """Declare the desk's consumers."""

    async def on_referral(event: ReferralReceived, _: MessageOrigin) -> None:
        await desk.open_case(event)

    async def on_amendment(event: ReferralAmended, _: MessageOrigin) -> None:
        await desk.amend_case(event)

    async def on_completed(event: EnquiryCompleted, _: MessageOrigin) -> None:
        await desk.record_enquiry(event)

    async def on_addendum(event: EnquiryAddendumRecorded, _: MessageOrigin) -> None:
        await desk.record_addendum(event)

    runtime.subscribe(REFERRAL_RECEIVED, ReferralReceived, "decision.referrals", on_referral)
    runtime.subscribe(REFERRAL_AMENDED, ReferralAmended, "decision.amendments", on_amendment)
    runtime.subscribe(ENQUIRY_COMPLETED, EnquiryCompleted, "decision.enquiry-outcomes", on_completed)
    runtime.subscribe(ENQUIRY_ADDENDUM, EnquiryAddendumRecorded, "decision.enquiry-addenda", on_addendum)
