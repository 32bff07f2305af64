"""Subscribers: insight reads the hub's topics in consumer groups of its own; each event goes to the fact recorder.

Nothing in the other services knows insight is there. Every group is `insight.<generation>.<what>`, read
from the earliest offset when new: a new generation (MASH_INSIGHT_GENERATION) with an empty database
rebuilds every read model from the topics.
"""

from __future__ import annotations

from mash_runtime.service import ServiceRuntime
from mash_schemas.topics import (
    CONSULTATION_RECORDED,
    DECISION_MADE,
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    POLICE_NOTIFICATION,
    QUALITY_AUDIT_RECORDED,
    REFERRAL_RECEIVED,
    TIMESCALE_ALERT,
    TRANSFER_SENT,
)

from mash_insight.fact_recording import FactRecorder
from mash_insight.quality_assurance import QualityAssuranceFigures
from mash_insight.quality_readers import QualityAuditRecordedView
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


def subscribe_quality_audits(runtime: ServiceRuntime, figures: QualityAssuranceFigures, generation: str) -> None:
    """The practice leads' audits of the dip sample (issue 23), in a group of this generation like the others."""
    runtime.subscribe(QUALITY_AUDIT_RECORDED, QualityAuditRecordedView, f"insight.{generation}.quality-audits",
                      figures.on_audit)
