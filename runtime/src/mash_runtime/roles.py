"""The hub's roles: one list, used by the token checks (mash_runtime.auth) and by every service's rules.

A pure module (no web framework, no database), so that a service's domain can name roles without
importing infrastructure.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who is acting: the hub's own staff, a partner agency, or an analyst (no sensitive detail)."""

    SCREENER = "screener"
    MANAGER = "manager"
    AGENCY = "agency"
    ANALYST = "analyst"
    REFERRER = "referrer"
    OPERATIONS = "operations"
    # Audits the weekly dip sample of decided cases (issue 23): sees only the cases drawn, grades the practice.
    PRACTICE_LEAD = "practice_lead"
