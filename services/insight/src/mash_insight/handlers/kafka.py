"""Subscribers: insight reads the hub's topics in consumer groups of its own and keeps a fact per event.

Nothing in the other services knows insight is there. Every group is `insight.<generation>.<what>`, read
from the earliest offset when new: a new generation (MASH_INSIGHT_GENERATION) with an empty database
rebuilds every read model from the topics.
"""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin
from mash_runtime.service import ServiceRuntime
from mash_schemas.topics import (
    CONSULTATION_RECORDED,
    DECISION_MADE,
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    POLICE_NOTIFICATION,
    REFERRAL_RECEIVED,
    TIMESCALE_ALERT,
    TRANSFER_SENT,
)

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


def subscribe_all(runtime: ServiceRuntime, recorder: FactRecorder, generation: str) -> None:
    """Declare insight's consumers, each in its own group of this generation."""

    def group(what: str) -> str:
        return f"insight.{generation}.{what}"

    runtime.subscribe(REFERRAL_RECEIVED, ReferralReceivedView, group("referrals"), recorder.on_referral)
    runtime.subscribe(DECISION_MADE, DecisionMadeView, group("decisions"), recorder.on_decision)
    runtime.subscribe(ENQUIRY_OPENED, EnquiryOpenedView, group("enquiries"), recorder.on_enquiry_opened)
    runtime.subscribe(ENQUIRY_COMPLETED, EnquiryCompletedView, group("enquiry-outcomes"),
                      recorder.on_enquiry_completed)
    runtime.subscribe(ENQUIRY_ADDENDUM, EnquiryAddendumView, group("late-answers"), recorder.on_addendum)
    runtime.subscribe(TIMESCALE_ALERT, TimescaleAlertView, group("timescales"), recorder.on_alert)
    runtime.subscribe(CONSULTATION_RECORDED, ConsultationRecordedView, group("consultations"),
                      recorder.on_consultation)
    runtime.subscribe(POLICE_NOTIFICATION, PoliceNotificationView, group("police-feed"),
                      recorder.on_police_notification)
    runtime.subscribe(TRANSFER_SENT, TransferSentView, group("transfers-out"), recorder.on_transfer_out)
