"""Who may do what at the manager's desk.

The roles themselves are the hub's (mash_runtime.roles.Role, the same list the tokens carry); this
module says which of them may take each desk step. Sealed items (an agency's sensitive information)
stay inside the hub: only screeners and MASH managers see them. Analysts read case files for trends,
without sealed items; partner agencies answer enquiries and have no access to the desk. What a case
file shows to each role is in case_file_views.py, beside the aggregate.
"""

from __future__ import annotations

from enum import StrEnum

from mash_runtime.roles import Role


class DeskAction(StrEnum):
    """Something done at the desk that needs a role."""

    SCREEN = "screen"
    ROUTE_TO_ALLOCATED_WORKER = "route_to_allocated_worker"
    OPEN_ENQUIRY = "open_enquiry"
    DECIDE = "decide"
    TRANSFER = "transfer"
    READ_CASE_FILE = "read_case_file"
    READ_SEALED_ITEMS = "read_sealed_items"


INSIDE_THE_HUB = frozenset({Role.SCREENER, Role.MANAGER})

PERMISSIONS: dict[DeskAction, frozenset[Role]] = {
    DeskAction.SCREEN: INSIDE_THE_HUB,
    DeskAction.ROUTE_TO_ALLOCATED_WORKER: INSIDE_THE_HUB,
    # The MASH manager rates risk, opens enquiries and decides (DOMAIN.md, "Who takes part").
    DeskAction.OPEN_ENQUIRY: frozenset({Role.MANAGER}),
    DeskAction.DECIDE: frozenset({Role.MANAGER}),
    # Passing a contact to the council where the family lives is a front-door step (DOMAIN.md, "Across
    # council boundaries"): the screener may take it, as the manager may.
    DeskAction.TRANSFER: INSIDE_THE_HUB,
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
