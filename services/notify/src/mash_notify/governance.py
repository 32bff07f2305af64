"""Notify's information governance: retention sweeps and legal holds over its records, erasure, and its
part of a subject access request (`govern` wires them; mash_runtime.governance does the sweeping and holding).

Notify's part of a subject access request: every message the hub sent about the person's referrals.

Notify holds no names to search by, so it answers for the referrals decision found (`referral_ids` on the
request). Each message is given as sent, with its recipient marked as a third party; notify's messages never
held a sealed item's text (a withheld item appears only as its agency's request route), so nothing is withheld.
"""

from __future__ import annotations

from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime
from mash_runtime.subject_access import Found, answer_subject_access
from mash_schemas.subject_access import HeldItem, SubjectAccessRequest

from mash_notify.store import NotifyStore, RetainedDeliveries, deliveries_for

TEXT_LIMIT = 3_900


class SubjectAccessFinder:
    """Searches notify's own delivery log for a subject access request."""

    def __init__(self, store: NotifyStore) -> None:
        self._store = store

    async def find(self, request: SubjectAccessRequest) -> Found:
        """Notify's part: one held item per message about the person's referrals."""
        items = [
            HeldItem(item_id=delivery.message.notification_id, kind=f"message ({delivery.message.kind})",
                     referral_id=delivery.message.referral_id, recorded_at=delivery.sent_at or delivery.queued_at,
                     summary=f"{delivery.status} by {delivery.message.channel} to "
                             f"{delivery.message.recipient_label}: {delivery.message.subject}\n"
                             f"{delivery.message.body}"[:TEXT_LIMIT],
                     third_parties=[f"{delivery.message.recipient_label} (recipient)"])
            for delivery in await deliveries_for(self._store, request.referral_ids)
        ]
        return items, []


def govern(runtime: ServiceRuntime, store: NotifyStore) -> Governance:
    """Sweep and hold the delivery log by the retention schedule, and answer notify's part of each subject access
    request."""
    governance = Governance(runtime, [RetainedDeliveries(store)])
    answer_subject_access(runtime, SubjectAccessFinder(store).find)
    return governance
