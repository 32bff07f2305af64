"""What a case file shows to each role: whole inside the hub, without sealed items outside it.

Views of the aggregate live beside it (not in roles.py) so that the rules of who may act and the
case file itself do not import each other.
"""

from __future__ import annotations

from mash_runtime.roles import Role
from mash_schemas import AgencyFindings, Sensitivity
from pydantic import BaseModel, ConfigDict

from mash_decision.domain.case_file import CaseFile, analysis_without_sealed_text, voice_without_sealed_text
from mash_decision.domain.roles import DeskAction, may, require_permission

WITHHELD = "withheld"


class HandoffChoice(BaseModel):
    """One item the manager may put into the hand-off, labelled, so that a page offering it reads nothing else.

    The labels come from the same view of the case file the caller is given (`case_file_view`), so they show
    nothing that view does not: a sealed item appears only to a role that may read sealed items, and then only
    because its agency released it; `release_wording` is the only form in which such an item leaves the hub.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    agency: str
    item_id: str
    summary: str
    sealed: bool
    release_wording: str | None = None


def handoff_choices(visible: CaseFile) -> list[HandoffChoice]:
    """The hand-off candidates of a case file as the caller may see it, labelled, in key order."""
    choices = []
    for key, chosen in sorted(visible.handoff_candidates().items()):
        item = chosen.item
        sealed = item.sensitivity is Sensitivity.SENSITIVE
        wording = item.release.permitted_wording if sealed and item.release is not None else None
        choices.append(HandoffChoice(key=key, agency=chosen.agency, item_id=item.item_id, summary=item.summary,
                                     sealed=sealed, release_wording=wording))
    return choices


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
    # The hub's own reasoning stays visible; only an agency's sealed words quoted in it are cut out.
    sealed = case.sealed_items()
    update["risk_analyses"] = [
        record.model_copy(update={"analysis": analysis_without_sealed_text(record.analysis, sealed)})
        for record in case.risk_analyses
    ]
    if case.decided_childs_voice is not None:
        update["decided_childs_voice"] = voice_without_sealed_text(case.decided_childs_voice, sealed)
    if case.screening is not None and case.screening.childs_voice is not None:
        update["screening"] = case.screening.model_copy(
            update={"childs_voice": voice_without_sealed_text(case.screening.childs_voice, sealed)})
    return case.model_copy(update=update, deep=True)
