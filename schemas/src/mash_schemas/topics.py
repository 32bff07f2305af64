"""Kafka topic names. Per-agency topics let ACLs give each partner agency exactly its own topics.

A deployment may put a namespace in front of every name (see mash_runtime.settings) so that several
hubs, or several test runs, share one cluster without seeing each other's events.
"""

REFERRAL_RECEIVED = "mash.referral.received"
REFERRAL_AMENDED = "mash.referral.amended"
POLICE_NOTIFICATION = "mash.police.notification"
ENQUIRY_OPENED = "mash.enquiry.opened"
ENQUIRY_COMPLETED = "mash.enquiry.completed"
ENQUIRY_ADDENDUM = "mash.enquiry.addendum"
DECISION_MADE = "mash.decision.made"
TIMESCALE_ALERT = "mash.case.timescale"
NOTIFICATION_SENT = "mash.notification.sent"
NOTIFICATION_FAILED = "mash.notification.failed"
DEAD_LETTER = "mash.deadletter"
CONSULTATION_RECORDED = "mash.consultation.recorded"
SUBJECT_ERASED = "mash.subject.erased"
LEGAL_HOLD = "mash.legal.hold"

# A region's police force sends one feed, in the region's namespace; its router passes each notification on
# to the POLICE_NOTIFICATION topic of the hub whose area holds the child's address (docs/federation.md).
POLICE_FEED_PREFIX = "mash.police.feed."

ENQUIRY_REQUEST_PREFIX = "mash.enquiry.request."
AGENCY_RESPONSE_PREFIX = "mash.agency.response."


def police_feed_topic(force: str) -> str:
    """The one topic on which police force `force` sends the notifications for every hub it serves."""
    return f"{POLICE_FEED_PREFIX}{force}"


def enquiry_request_topic(agency: str) -> str:
    """The topic on which `agency` receives enquiry requests (and reminders)."""
    return f"{ENQUIRY_REQUEST_PREFIX}{agency}"


def agency_response_topic(agency: str) -> str:
    """The topic on which `agency` answers enquiry requests."""
    return f"{AGENCY_RESPONSE_PREFIX}{agency}"

# Information governance (issue 15): a subject access request, and each service's part of the answer.
SUBJECT_ACCESS_REQUESTED = "mash.subject-access.requested"
SUBJECT_ACCESS_PART = "mash.subject-access.part"
SUBJECT_ACCESS_PERMISSION_REQUESTED = "mash.subject-access.permission-requested"
SUBJECT_ACCESS_PERMISSION_ANSWERED = "mash.subject-access.permission-answered"

# Across council boundaries (issue 20). A transfer goes on the RECEIVING hub's namespace: only that hub's
# intake reads it, other hubs' decision services may only write it. The sending hub keeps its own notice.
FEDERATION_TRANSFER = "mash.federation.transfer"
TRANSFER_SENT = "mash.transfer.sent"

# Quality assurance (issue 23): a practice lead's audit of a case drawn in the week's dip sample. Counts only travel
# (agreement, grade, outcome, week); the practice lead's learning stays in decision.
QUALITY_AUDIT_RECORDED = "mash.quality.audit.recorded"
