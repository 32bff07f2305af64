"""A release permission request: decision asks the supplying agency whether one sealed item may go to the person.

The agency portal keeps one per sealed item, by reference only (agency, item id, referral), until the agency
answers. The first answer stands: an answered request is never answered again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from mash_schemas.subject_access import ReleasePermissionRequest

PermissionStatus = Literal["awaiting_agency", "permitted", "refused"]
AWAITING: PermissionStatus = "awaiting_agency"


@dataclass(frozen=True)
class PermissionRequest:
    """What decision asked, and the agency's answer once given."""

    asked: ReleasePermissionRequest
    status: PermissionStatus = AWAITING
    answered_by: str | None = None
    answered_at: datetime | None = None
    note: str | None = None

    @property
    def awaiting(self) -> bool:
        """True until the agency answers (the first answer stands)."""
        return self.status == AWAITING

    def answered(self, *, permitted: bool, by: str, at: datetime, note: str | None) -> PermissionRequest:
        """This request with the agency's answer."""
        return replace(self, status="permitted" if permitted else "refused", answered_by=by, answered_at=at,
                       note=note)
