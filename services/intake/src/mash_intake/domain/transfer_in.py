"""A contact another hub of the region transferred here: it becomes a referral of this hub, with a link back.

The sending hub closed its case as "transferred" because the family lives in this council's area; this
hub takes the contact as new (its own register, linking and rating), keeps the sending hub's history and
shared findings on it (`Referral.transferred_from`), and never rates it below what the sending hub did.
Pure: the front door stores the contact and publishes its referral.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from mash_schemas.federation import TransferredContact
from mash_schemas.referral import Referral, SubjectMatch, SuggestedRating

_TRANSFER_NAMESPACE = uuid.UUID("5b0f7c3e-9d1a-4f43-8c2e-3a7d6e1f0b92")


class TransferNotForThisHub(Exception):
    """A transfer addressed to another hub arrived here (the broker's ACLs should have made that impossible)."""


def transfer_contact_id(transfer_id: str) -> str:
    """This hub's contact id for a transfer: the same transfer always gives the same contact (the repeat check)."""
    return f"XFER-{uuid.uuid5(_TRANSFER_NAMESPACE, transfer_id).hex[:12].upper()}"


def receiving_rating(own: SuggestedRating, transferred: TransferredContact) -> SuggestedRating:
    """This hub's own suggestion, raised to the sending hub's rating if that was more urgent, with why."""
    origin = transferred.origin
    reasons = [*own.reasons, f"rated {origin.sending_rating.value} by {origin.hub_name} before the transfer"]
    rating = max((own.rating, origin.sending_rating), key=lambda brag: brag.severity)
    return SuggestedRating(rating=rating, reasons=reasons)


def referral_from_transfer(
    transferred: TransferredContact,
    *,
    this_hub: str | None,
    referral_id: str,
    received_at: datetime,
    suggested_rating: SuggestedRating,
    matches: list[SubjectMatch],
    linked_referrals: list[str],
) -> Referral:
    """The referral this hub opens for a transferred contact (TransferNotForThisHub if it was meant elsewhere)."""
    if this_hub is not None and transferred.to_hub != this_hub:
        raise TransferNotForThisHub(f"transfer {transferred.transfer_id} is for {transferred.to_hub}, not {this_hub}")
    return Referral(
        referral_id=referral_id,
        source=transferred.source,
        received_at=received_at,
        referrer=transferred.referrer,
        subjects=transferred.subjects,
        household=transferred.household,
        concern=transferred.concern,
        consent=transferred.consent,
        suggested_rating=suggested_rating,
        matches=matches,
        linked_referrals=linked_referrals,
        transferred_from=transferred.origin,
    )
