"""What a transfer to another hub carries: the contact and only the findings that may leave this hub.

The receiving council takes over the duty to make enquiries (Children Act 1989 s47 falls on the council
where the child lives), so it needs the contact as referred, the rating this hub gave, and the findings
an agency's rules allow out. A sealed item crosses only as a reference (which agency holds it and how to
ask), exactly as it leaves in a hand-off; history goes without rationales, which may quote sealed text.
Pure: the desk stores the case and publishes what this returns.
"""

from __future__ import annotations

from mash_schemas.federation import TransferNotice, TransferredContact
from mash_schemas.items import ReleasedItem
from mash_schemas.referral import TransferHistoryLine, TransferOrigin

from mash_decision.domain.case_file import CaseFile, without_sealed_text


def transfer_id(from_hub: str, referral_id: str) -> str:
    """The transfer's identity: one per sending referral, whatever the event id (the receiver's repeat check)."""
    return f"{from_hub}/{referral_id}"


def transferred_contact(case: CaseFile, from_hub: str, from_hub_name: str) -> TransferredContact:
    """The contact as it crosses to the hub the case was transferred to (the case must be transferred)."""
    record = case.transfer
    if record is None:
        raise ValueError(f"referral {case.referral_id} has not been transferred")
    referral = case.referral
    sealed = case.sealed_items()
    origin = TransferOrigin(
        hub_id=from_hub,
        hub_name=from_hub_name,
        referral_id=case.referral_id,
        transferred_at=record.at,
        transferred_by=record.by,
        reason=without_sealed_text(record.reason, sealed),
        sending_rating=case.rating,
        shared_findings=[ReleasedItem.of(chosen.agency, chosen.item)
                         for _, chosen in sorted(case.handoff_candidates().items())],
        sealed_references=[withheld for _, withheld in sorted(case.withheld_items().items())],
        history=[TransferHistoryLine(at=line.at, what=without_sealed_text(line.what, sealed)[:500])
                 for line in case.history],
    )
    return TransferredContact(
        transfer_id=transfer_id(from_hub, case.referral_id),
        to_hub=record.to_hub,
        source=referral.source,
        received_at=referral.received_at,
        referrer=referral.referrer,
        subjects=referral.subjects,
        household=case.household,
        concern=referral.concern,
        consent=case.consent,
        origin=origin,
    )


def transfer_notice(case: CaseFile, from_hub: str) -> TransferNotice:
    """The sending hub's own notice of the transfer (the referrer is told where the concern went)."""
    record = case.transfer
    if record is None:
        raise ValueError(f"referral {case.referral_id} has not been transferred")
    return TransferNotice(
        transfer_id=transfer_id(from_hub, case.referral_id), referral_id=case.referral_id, from_hub=from_hub,
        to_hub=record.to_hub, to_hub_name=record.to_hub_name, transferred_at=record.at, rating=case.rating,
        referrer=case.referral.referrer,
    )
