"""The two-hub demo's steps across the boundary (issue 20): a neighbour asked, a contact transferred.

Given staff of two hubs of a region (anything with `client(hub_id) -> HubClient`, as the region run has):

1. `ask_the_neighbour`: the receiving hub's manager screens a case and opens a MASH enquiry naming the
   other hub as the member `hub-<id>`; the other hub's desk answers from its records, and the answer is on
   the case file as that member's findings;
2. `transfer_and_decide`: a contact made to the old hub about the family at its new address is transferred
   by the old hub's screener (the desk suggests it from the postcode) and decided by the new hub.

Each returns the lines the demo prints. `tests/integration/federation/test_transfer_demo_steps.py` runs them.
"""

from __future__ import annotations

from typing import Any, Protocol

from demo.client import HubClient
from demo.scenarios import screening_reasoning
from demo.waiting import eventually

DEFAULT_TIMEOUT = 120.0


class StaffOfHubs(Protocol):
    """Staff of each hub of a region, by hub id (the demo's region run)."""

    def client(self, hub_id: str) -> HubClient:
        """A client for that hub's staff (the caller closes it)."""
        ...


async def _case_in(staff: HubClient, referral_id: str, *states: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await staff.case(referral_id)
        return view if view is not None and view["case_file"]["state"] in states else None

    return await eventually(probe, timeout=DEFAULT_TIMEOUT, interval=0.5, what=f"{referral_id} {'/'.join(states)}")


async def ask_the_neighbour(hubs: StaffOfHubs, asking: str, asked: str, referral_id: str) -> list[str]:
    """`asking`'s manager asks hub `asked` about the family of `referral_id`; what came back."""
    staff = hubs.client(asking)
    member = f"hub-{asked}"
    try:
        view = await _case_in(staff, referral_id, "awaiting_screening", "awaiting_decision")
        if view["case_file"]["state"] == "awaiting_screening":
            rating = view["case_file"]["referral"]["suggested_rating"]["rating"]
            (await staff.desk(referral_id, "screening", {"rating": rating}, as_=staff.screener)).raise_for_status()
        (await staff.desk(referral_id, "enquiry", {
            "agencies": [member], "consent_check": "not_sought",
            "proceed_without_consent_reason": "Risk of significant harm: the neighbouring council may know the family.",
            "questions": ["Is the family known to you? Which team worked with them?"]})).raise_for_status()
        view = await _case_in(staff, referral_id, "awaiting_decision")
    finally:
        await staff.close()
    findings = [f for f in view["case_file"]["enquiry_outcome"]["findings"] if f["agency"] == member]
    lines = [f"{asking} asked {member} about [{referral_id}]: {findings[0]['outcome'] if findings else 'no answer'}"]
    lines += [f"    {item['sensitivity']}: {item['summary']}" for f in findings for item in f["items"]]
    sealed = len(view["case_file"]["enquiry_outcome"].get("sealed", []))
    if sealed:
        lines.append(f"    and {sealed} sensitive item(s), kept sealed in {asking}'s case file")
    return lines


async def transfer_and_decide(hubs: StaffOfHubs, sending: str, receiving: str, contact: dict[str, Any]) -> list[str]:
    """`contact` reaches `sending`, whose screener transfers it to `receiving`, whose manager decides it."""
    old, new = hubs.client(sending), hubs.client(receiving)
    try:
        accepted = await old.submit_contact(contact)
        accepted.raise_for_status()
        referral_id = accepted.json()["referral_id"]
        view = await _case_in(old, referral_id, "awaiting_screening")
        suggestion = view.get("transfer_suggestion") or {}
        where = suggestion.get("to_hub_name", receiving)
        reason = f"The family now lives in {where}'s area ({suggestion.get('why', 'their new address')})."
        body = {"to_hub": receiving, "reason": reason}
        preview = await old.desk(referral_id, "transfer/preview", body, as_=old.screener)
        preview.raise_for_status()
        crossing = preview.json()["transfer"]
        (await old.desk(referral_id, "transfer", body, as_=old.screener)).raise_for_status()
        transfer_id = crossing["transfer_id"]

        async def arrived() -> dict[str, Any] | None:
            for entry in await new.queue():
                found = await new.case(entry["referral_id"])
                origin = found["case_file"]["referral"].get("transferred_from") if found else None
                if origin and f"{origin['hub_id']}/{origin['referral_id']}" == transfer_id:
                    return found
            return None

        received = await eventually(arrived, timeout=DEFAULT_TIMEOUT, interval=0.5, what=f"{transfer_id} received")
        new_id = received["case_file"]["referral"]["referral_id"]
        rating = received["case_file"]["referral"]["suggested_rating"]["rating"]
        categories = received["case_file"]["referral"]["concern"]["categories"]
        (await new.desk(new_id, "screening", {"rating": rating, **screening_reasoning(rating, categories)},
                        as_=new.screener)).raise_for_status()
        decided = await new.desk(new_id, "decision", {
            "outcome": "statutory_assessment",
            "rationale": f"Transferred by {sending} (their referral {referral_id}); the family lives here now."})
        decided.raise_for_status()
        closed = await _case_in(old, referral_id, "transferred")
    finally:
        await old.close()
        await new.close()
    return [
        f"{sending} [{referral_id}] transferred to {receiving}: {len(crossing['origin']['shared_findings'])} shared "
        f"finding(s), {len(crossing['origin']['sealed_references'])} sealed item(s) as references only; "
        f"{sending}'s case is now {closed['case_file']['state']}",
        f"{receiving} [{new_id}] received it (rated {rating}) and decided: "
        f"{decided.json()['outcome']} -> {decided.json()['receiving_service']}",
    ]
