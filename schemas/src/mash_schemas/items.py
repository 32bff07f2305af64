"""Items as they may leave the hub: an agency's finding in its releasable form, or a reference to a sealed one.

Shared by the decision's hand-off and a transfer to another hub (mash_schemas.federation): both carry
findings only in these forms, so a sealed item's content never travels, not even encrypted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from mash_schemas.agency import InformationItem, ItemText, Sensitivity
from mash_schemas.common import AgencyName, Model, ShortText

ItemId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ReleasedItem(Model):
    """An item that may leave the hub, in the only form it may leave in.

    A non-sensitive item goes as the agency wrote it (`about` and its summary as `wording`); a sensitive
    item whose agency permits release goes only in the agency's permitted wording, without `about`
    (whom it concerns may itself be part of what the agency sealed).
    """

    agency: AgencyName
    item_id: ItemId
    basis: Literal["non_sensitive", "released_by_agency"]
    about: ShortText | None = None
    wording: ItemText

    @classmethod
    def of(cls, agency: str, item: InformationItem) -> ReleasedItem:
        """The releasable form of `item`; ValueError for a sensitive item its agency has not released."""
        if item.sensitivity is Sensitivity.NON_SENSITIVE:
            return cls(agency=agency, item_id=item.item_id, basis="non_sensitive", about=item.about,
                       wording=item.summary)
        if item.release is None or not item.release.permitted or not item.release.permitted_wording:
            raise ValueError(f"item {item.item_id!r} of {agency} may not leave the hub")
        return cls(agency=agency, item_id=item.item_id, basis="released_by_agency",
                   wording=item.release.permitted_wording)


class WithheldItem(Model):
    """A reference to a sensitive item whose agency has not permitted release: who holds it and how to ask.

    It carries no content: the receiving service is told only that the agency holds information and
    the agency's own route for requesting it.
    """

    agency: AgencyName
    item_id: ItemId
    request_route: ShortText

    @classmethod
    def of(cls, agency: str, item: InformationItem) -> WithheldItem:
        """The reference to a sensitive item; ValueError for an item that has no release condition."""
        if item.release is None:
            raise ValueError(f"item {item.item_id!r} of {agency} is not a sensitive item")
        return cls(agency=agency, item_id=item.item_id, request_route=item.release.request_route)


def is_releasable(item: InformationItem) -> bool:
    """True for a non-sensitive item, or a sensitive one its agency permits to leave the hub."""
    if item.sensitivity is Sensitivity.NON_SENSITIVE:
        return True
    return item.release is not None and item.release.permitted and bool(item.release.permitted_wording)
