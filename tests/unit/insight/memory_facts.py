"""An in-memory FactStore with the store's semantics: a fact is kept once per key."""

from __future__ import annotations

import json
from typing import Any

from mash_insight.domain.facts import Fact, kind_of
from mash_insight.domain.figures import Facts
from mash_insight.fact_recording import FactRecorder
from mash_insight.readers import (
    ConsultationRecordedView,
    DecisionMadeView,
    EnquiryAddendumView,
    EnquiryCompletedView,
    EnquiryOpenedView,
    PoliceNotificationView,
    ReferralReceivedView,
    TimescaleAlertView,
)
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import (
    CONSULTATION_RECORDED,
    DECISION_MADE,
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    POLICE_NOTIFICATION,
    REFERRAL_RECEIVED,
    TIMESCALE_ALERT,
)

READERS: dict[str, tuple[type[EventEnvelope[Any]], str]] = {
    REFERRAL_RECEIVED: (ReferralReceivedView, "on_referral"),
    DECISION_MADE: (DecisionMadeView, "on_decision"),
    ENQUIRY_OPENED: (EnquiryOpenedView, "on_enquiry_opened"),
    ENQUIRY_COMPLETED: (EnquiryCompletedView, "on_enquiry_completed"),
    ENQUIRY_ADDENDUM: (EnquiryAddendumView, "on_addendum"),
    TIMESCALE_ALERT: (TimescaleAlertView, "on_alert"),
    CONSULTATION_RECORDED: (ConsultationRecordedView, "on_consultation"),
    POLICE_NOTIFICATION: (PoliceNotificationView, "on_police_notification"),
}


class MemoryFactStore:
    """Facts by kind and key."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], Fact] = {}
        self.documents: list[str] = []

    async def record(self, fact: Fact, event_id: str) -> bool:
        key = (kind_of(fact).value, fact.key())
        if key in self.kept:
            return False
        self.kept[key] = fact
        self.documents.append(json.dumps({**fact.model_dump(mode="json"), "_event_id": event_id}))
        return True

    async def facts(self) -> Facts:
        return Facts.of(self.kept.values())


async def feed(recorder: FactRecorder, topic: str, event: EventEnvelope[Any]) -> None:
    """Deliver one event as a consumer would: its JSON read by insight's reader for the topic."""
    reader, method = READERS[topic]
    await getattr(recorder, method)(reader.model_validate_json(event.model_dump_json()))
