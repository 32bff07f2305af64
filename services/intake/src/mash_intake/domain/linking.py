"""Repeat-contact linking: earlier contacts about the same people, within the hub's linking window.

A second contact about a child within weeks is information in itself; it is linked to the earlier
ones, so it is neither lost among them nor screened as a duplicate.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

DEFAULT_LINKING_WINDOW = timedelta(days=28)


class EarlierContact(BaseModel):
    """A contact the hub already received, with the register people it was matched to."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    received_at: AwareDatetime
    person_refs: frozenset[str]


def linked_referrals(
    earlier: Iterable[EarlierContact],
    person_refs: Collection[str],
    *,
    now: datetime,
    window: timedelta = DEFAULT_LINKING_WINDOW,
    referral_id: str | None = None,
) -> list[str]:
    """Referral ids of earlier contacts about any of `person_refs` received within `window` before `now`.

    Oldest first, each once. `referral_id` (the new contact's own id) is never linked to itself, so a
    replayed contact does not link to its first delivery.
    """
    if window < timedelta(0):
        raise ValueError("the linking window cannot be negative")
    wanted = set(person_refs)
    if not wanted:
        return []
    since = now - window
    linked: dict[str, datetime] = {}
    for contact in earlier:
        if contact.referral_id == referral_id or not since <= contact.received_at <= now:
            continue
        if wanted.isdisjoint(contact.person_refs):
            continue
        first = linked.get(contact.referral_id)
        linked[contact.referral_id] = contact.received_at if first is None else min(first, contact.received_at)
    return sorted(linked, key=lambda ref: (linked[ref], ref))
