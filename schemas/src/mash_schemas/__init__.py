"""The MASH event contract.

Every message the hub's services and partner agencies exchange is one of the events defined here,
wrapped in the common envelope. Partner agencies can install this package on its own.
"""

from mash_schemas.agency import (
    AgencyResponded,
    AgencyResponse,
    InformationItem,
    ReleaseCondition,
    Sensitivity,
)
from mash_schemas.common import (
    Address,
    AgencyName,
    AllocatedWorker,
    BragRating,
    ConcernCategory,
    Consent,
    ConsentStatus,
    HouseholdMember,
    Referrer,
    ReferrerSector,
    Subject,
    SubjectKind,
)
from mash_schemas.consultation import Consultation, ConsultationAsker, ConsultationRecorded
from mash_schemas.deadletter import DeadLetter, DeadLetterRecord
from mash_schemas.decision import Decision, DecisionMade, HandoffItem, Outcome
from mash_schemas.enquiry import (
    AgencyFindings,
    Enquiry,
    EnquiryAddendum,
    EnquiryAddendumRecorded,
    EnquiryCompleted,
    EnquiryOpened,
    EnquiryOutcome,
    EnquiryRequest,
    EnquiryRequested,
    SealedItem,
)
from mash_schemas.envelope import EventEnvelope, derived_event_id
from mash_schemas.notification import (
    Notification,
    NotificationFailed,
    NotificationFailure,
    NotificationKind,
    NotificationSent,
)
from mash_schemas.police import PoliceNotification, PoliceNotificationReceived
from mash_schemas.referral import (
    Concern,
    Referral,
    ReferralAmended,
    ReferralAmendment,
    ReferralReceived,
    SubjectMatch,
    SuggestedRating,
)
from mash_schemas.timescale import TimescaleAlert, TimescaleAlertRaised

__all__ = [
    "Address",
    "AgencyFindings",
    "AgencyName",
    "AgencyResponded",
    "AgencyResponse",
    "AllocatedWorker",
    "BragRating",
    "Concern",
    "ConcernCategory",
    "Consent",
    "ConsentStatus",
    "Consultation",
    "ConsultationAsker",
    "ConsultationRecorded",
    "DeadLetter",
    "DeadLetterRecord",
    "Decision",
    "DecisionMade",
    "Enquiry",
    "EnquiryAddendum",
    "EnquiryAddendumRecorded",
    "EnquiryCompleted",
    "EnquiryOpened",
    "EnquiryOutcome",
    "EnquiryRequest",
    "EnquiryRequested",
    "EventEnvelope",
    "HandoffItem",
    "HouseholdMember",
    "InformationItem",
    "Notification",
    "NotificationFailed",
    "NotificationFailure",
    "NotificationKind",
    "NotificationSent",
    "Outcome",
    "PoliceNotification",
    "PoliceNotificationReceived",
    "Referral",
    "ReferralAmended",
    "ReferralAmendment",
    "ReferralReceived",
    "Referrer",
    "ReferrerSector",
    "ReleaseCondition",
    "SealedItem",
    "Sensitivity",
    "Subject",
    "SubjectKind",
    "SubjectMatch",
    "SuggestedRating",
    "TimescaleAlert",
    "TimescaleAlertRaised",
    "derived_event_id",
]
