"""The event catalogue: every event class, by its event_type, for docs and schema generation."""

from __future__ import annotations

from mash_schemas.agency import AgencyResponded
from mash_schemas.consultation import ConsultationRecorded
from mash_schemas.deadletter import DeadLetter
from mash_schemas.decision import DecisionMade
from mash_schemas.enquiry import EnquiryAddendumRecorded, EnquiryCompleted, EnquiryOpened, EnquiryRequested
from mash_schemas.envelope import EventEnvelope
from mash_schemas.federation import ContactTransferred, TransferSent
from mash_schemas.governance import LegalHoldChanged, SubjectErased
from mash_schemas.notification import NotificationFailed, NotificationSent
from mash_schemas.police import PoliceNotificationReceived
from mash_schemas.quality import QualityAuditRecorded
from mash_schemas.referral import ReferralAmended, ReferralReceived
from mash_schemas.subject_access import (
    SubjectAccessPartAnswered,
    SubjectAccessPermissionAnswered,
    SubjectAccessPermissionRequested,
    SubjectAccessRequested,
)
from mash_schemas.timescale import TimescaleAlertRaised
from mash_schemas.topics import agency_response_topic, enquiry_request_topic

EVENTS: dict[str, type[EventEnvelope]] = {  # type: ignore[type-arg]
    "referral.received": ReferralReceived,
    "referral.amended": ReferralAmended,
    "police.notification": PoliceNotificationReceived,
    "enquiry.opened": EnquiryOpened,
    "enquiry.request": EnquiryRequested,
    "agency.response": AgencyResponded,
    "enquiry.completed": EnquiryCompleted,
    "enquiry.addendum": EnquiryAddendumRecorded,
    "decision.made": DecisionMade,
    "case.timescale": TimescaleAlertRaised,
    "notification.sent": NotificationSent,
    "notification.failed": NotificationFailed,
    "dead.letter": DeadLetter,
    "consultation.recorded": ConsultationRecorded,
    "subject.erased": SubjectErased,
    "legal.hold": LegalHoldChanged,
    "subject-access.requested": SubjectAccessRequested,
    "subject-access.part": SubjectAccessPartAnswered,
    "subject-access.permission-requested": SubjectAccessPermissionRequested,
    "subject-access.permission-answered": SubjectAccessPermissionAnswered,
    "contact.transferred": ContactTransferred,
    "transfer.sent": TransferSent,
    "quality.audit.recorded": QualityAuditRecorded,
}


def topic_of(event_type: str) -> str:
    """The topic an event type travels on (`<agency>` stands for the agency's own topics)."""
    if event_type == "enquiry.request":
        return enquiry_request_topic("<agency>")
    if event_type == "agency.response":
        return agency_response_topic("<agency>")
    topic: str = getattr(EVENTS[event_type], "TOPIC")  # noqa: B009 - ClassVar on a generic subclass
    return topic


PRODUCERS: dict[str, str] = {
    "referral.received": "intake",
    "referral.amended": "intake",
    "police.notification": "a police force's system",
    "enquiry.opened": "decision",
    "enquiry.request": "enquiry",
    "agency.response": "the agency's kit (or its own client)",
    "enquiry.completed": "enquiry",
    "enquiry.addendum": "enquiry",
    "decision.made": "decision",
    "case.timescale": "decision",
    "notification.sent": "notify",
    "notification.failed": "notify",
    "dead.letter": "any consumer",
    "consultation.recorded": "intake",
    "subject.erased": "any hub service's retention sweeper",
    "legal.hold": "decision",
    "subject-access.requested": "decision",
    "subject-access.part": "intake, decision, enquiry, notify, insight",
    "subject-access.permission-requested": "decision",
    "subject-access.permission-answered": "enquiry (the agency portal, on the agency's behalf)",
    "contact.transferred": "decision (of the sending hub, on the receiving hub's topic)",
    "transfer.sent": "decision",
    "quality.audit.recorded": "decision (a practice lead's audit of a case in the dip sample)",
}
"""Who writes each event (for the AsyncAPI document's send operations)."""

CONSUMER_GROUPS: dict[str, tuple[str, ...]] = {
    "referral.received": ("decision.referrals", "insight.{generation}.referrals"),
    "referral.amended": ("decision.amendments",),
    "police.notification": ("intake.police-feed", "insight.{generation}.police-feed"),
    "enquiry.opened": ("enquiry.opened", "intake.contact-status", "insight.{generation}.enquiries"),
    "enquiry.request": ("agency-{agency}",),
    "agency.response": ("enquiry.responses.{agency}",),
    "enquiry.completed": ("decision.enquiry-outcomes", "insight.{generation}.enquiry-outcomes"),
    "enquiry.addendum": ("decision.enquiry-addenda", "insight.{generation}.late-answers"),
    "decision.made": ("notify.decisions", "intake.contact-outcome", "insight.{generation}.decisions"),
    "case.timescale": ("insight.{generation}.timescales",),
    "notification.sent": (),
    "notification.failed": (),
    "dead.letter": (),
    "consultation.recorded": ("insight.{generation}.consultations",),
    "subject.erased": ("intake.erasures", "decision.erasures", "enquiry.erasures", "notify.erasures",
                       "insight.{generation}.erasures"),
    "legal.hold": ("intake.legal-holds", "decision.legal-holds", "enquiry.legal-holds", "notify.legal-holds",
                   "insight.{generation}.legal-holds"),
    "subject-access.requested": ("intake.subject-access", "decision.subject-access", "enquiry.subject-access",
                                 "notify.subject-access", "insight.subject-access"),
    "subject-access.part": ("decision.subject-access-parts",),
    "subject-access.permission-requested": ("enquiry.subject-access-permissions",),
    "subject-access.permission-answered": ("decision.subject-access-permissions",),
    "contact.transferred": ("intake.transfers-in",),
    "transfer.sent": ("notify.transfers", "intake.transfers-out", "insight.{generation}.transfers-out"),
    "quality.audit.recorded": ("insight.{generation}.quality-audits",),
}
"""The consumer groups that read each event inside the hub and its agencies' kits (before any namespace).

`{agency}` is the agency's id, `{generation}` insight's MASH_INSIGHT_GENERATION. Events with none are read
by operations' own tools, outside the hub.
"""
