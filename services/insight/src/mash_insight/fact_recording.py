"""Insight's write side, the use case its subscribers call: each event the hub publishes becomes its fact, kept once.

It lives outside handlers/ as every service's use cases do: the subscribers only say which topic goes where, and
the in-memory tests, a replay and the real consumers all record facts through this one class.
"""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin

from mash_insight.domain import facts
from mash_insight.readers import (
    ConsultationRecordedView,
    DecisionMadeView,
    EnquiryAddendumView,
    EnquiryCompletedView,
    EnquiryOpenedView,
    PoliceNotificationView,
    ReferralReceivedView,
    TimescaleAlertView,
    TransferSentView,
)
from mash_insight.store import FactStore


class FactRecorder:
    """Turns each event into its fact and keeps it (a fact already kept is left as it is)."""

    def __init__(self, store: FactStore) -> None:
        self.store = store

    async def on_referral(self, event: ReferralReceivedView, _: MessageOrigin | None = None) -> None:
        """A contact accepted."""
        await self.store.record(facts.contact_fact(event.payload), str(event.event_id))

    async def on_decision(self, event: DecisionMadeView, _: MessageOrigin | None = None) -> None:
        """A decision."""
        await self.store.record(facts.decision_fact(event.payload), str(event.event_id))

    async def on_enquiry_opened(self, event: EnquiryOpenedView, _: MessageOrigin | None = None) -> None:
        """An enquiry opened (its time is the event's)."""
        await self.store.record(facts.enquiry_fact(event.payload, event.occurred_at), str(event.event_id))

    async def on_enquiry_completed(self, event: EnquiryCompletedView, _: MessageOrigin | None = None) -> None:
        """An enquiry completed."""
        await self.store.record(facts.enquiry_outcome_fact(event.payload), str(event.event_id))

    async def on_addendum(self, event: EnquiryAddendumView, _: MessageOrigin | None = None) -> None:
        """A late answer."""
        await self.store.record(facts.late_answer_fact(event.payload), str(event.event_id))

    async def on_alert(self, event: TimescaleAlertView, _: MessageOrigin | None = None) -> None:
        """A near breach or breach raised by the desk's clock."""
        await self.store.record(facts.alert_fact(event.payload, event.occurred_at), str(event.event_id))

    async def on_consultation(self, event: ConsultationRecordedView, _: MessageOrigin | None = None) -> None:
        """A consultation."""
        await self.store.record(facts.consultation_fact(event.payload), str(event.event_id))

    async def on_transfer_out(self, event: TransferSentView, _: MessageOrigin | None = None) -> None:
        """A contact transferred to another hub of the region."""
        await self.store.record(facts.transfer_out_fact(event.payload), str(event.event_id))

    async def on_police_notification(self, event: PoliceNotificationView, _: MessageOrigin | None = None) -> None:
        """A police notification sent to the feed."""
        await self.store.record(facts.police_notice_fact(event.payload, event.occurred_at), str(event.event_id))
