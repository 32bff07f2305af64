"""Who may do what at the manager's desk, and what a case file shows to someone outside the hub.

Sealed items (an agency's sensitive information) stay inside the hub: only screeners and MASH managers
see them. Analysts read case files for trends, without sealed items or a member of the public's identity.
Partner agencies answer enquiries; they have no access to the desk.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from mash_schemas import AgencyFindings, Sensitivity

if TYPE_CHECKING:
    from mash_decision.domain.case_file import CaseFile

WITHHELD = "withheld"


class Role(StrEnum):
    """A person's role as the desk knows it."""

    SCREENER = "screener"
    MANAGER = "manager"
    AGENCY = "agency"
    ANALYST = "analyst"


class DeskAction(StrEnum):
    """Something done at the desk that needs a role."""

    SCREEN = "screen"
    ROUTE_TO_ALLOCATED_WORKER = "route_to_allocated_worker"
    OPEN_ENQUIRY = "open_enquiry"
    DECIDE = "decide"
    READ_CASE_FILE = "read_case_file"
    READ_SEALED_ITEMS = "read_sealed_items"


INSIDE_THE_HUB = frozenset({Role.SCREENER, Role.MANAGER})

PERMISSIONS: dict[DeskAction, frozenset[Role]] = {
    DeskAction.SCREEN: INSIDE_THE_HUB,
    DeskAction.ROUTE_TO_ALLOCATED_WORKER: INSIDE_THE_HUB,
    # The MASH manager rates risk, opens enquiries and decides (DOMAIN.md, "Who takes part").
    DeskAction.OPEN_ENQUIRY: frozenset({Role.MANAGER}),
    DeskAction.DECIDE: frozenset({Role.MANAGER}),
    DeskAction.READ_CASE_FILE: frozenset({Role.SCREENER, Role.MANAGER, Role.ANALYST}),
    DeskAction.READ_SEALED_ITEMS: INSIDE_THE_HUB,
}


class NotPermitted(Exception):
    """The person's role does not allow this step (e.g. a screener recording the decision)."""

    def __init__(self, role: Role, action: DeskAction) -> None:
        self.role = role
        self.action = action
        allowed = ", ".join(sorted(PERMISSIONS[action]))
        super().__init__(f"a {role.value} may not {action.value.replace('_', ' ')} (allowed: {allowed})")


def may(role: Role, action: DeskAction) -> bool:
    """True when `role` may do `action`."""
    return role in PERMISSIONS[action]


def require_permission(role: Role, action: DeskAction) -> None:
    """Raise NotPermitted unless `role` may do `action`."""
    if not may(role, action):
        raise NotPermitted(role, action)


def case_file_view(case: CaseFile, role: Role) -> CaseFile:
    """The case file as `role` may read it: whole inside the hub, without sealed items outside it."""
    require_permission(role, DeskAction.READ_CASE_FILE)
    if may(role, DeskAction.READ_SEALED_ITEMS):
        return case
    return without_sealed_items(case)


def _shareable_findings(findings: AgencyFindings) -> AgencyFindings:
    # Findings carry non-sensitive items by contract; filtering again costs nothing if one ever slips in.
    kept = [item for item in findings.items if item.sensitivity is Sensitivity.NON_SENSITIVE]
    return findings.model_copy(update={"items": kept})


def without_sealed_items(case: CaseFile) -> CaseFile:
    """A copy of the case file with every sensitive item removed and a public referrer's identity withheld."""
    update: dict[str, object] = {}
    if case.enquiry_outcome is not None:
        outcome = case.enquiry_outcome
        update["enquiry_outcome"] = outcome.model_copy(
            update={"sealed": [], "findings": [_shareable_findings(found) for found in outcome.findings]}
        )
    update["addenda"] = [
        addendum.model_copy(update={"sealed": [], "findings": _shareable_findings(addendum.findings)})
        for addendum in case.addenda
    ]
    referrer = case.referral.referrer
    if referrer.is_member_of_public:
        referrer = referrer.model_copy(update={"name": WITHHELD, "email": None, "phone": None})
        update["referral"] = case.referral.model_copy(update={"referrer": referrer})
    if case.decision is not None:
        decision = case.decision
        items = [chosen for chosen in decision.handoff_items if chosen.item.sensitivity is Sensitivity.NON_SENSITIVE]
        released = [shared for shared in decision.released_items if shared.basis == "non_sensitive"]
        update["decision"] = decision.model_copy(update={
            "handoff_items": items, "released_items": released, "withheld_items": [], "referrer": referrer})
    return case.model_copy(update=update, deep=True)
