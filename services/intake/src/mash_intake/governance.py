"""Intake's information governance: retention sweeps and legal holds over its records, erasure, and its
part of a subject access request (`govern` wires them; mash_runtime.governance does the sweeping and holding).

Intake's part of a subject access request: the contacts and police notifications that name the person.

Each contact is given as it was received (who referred, about what, the narrative), with everyone else it
names (other subjects, the household, the referrer) listed as third parties for redaction review. Intake
holds no agency's sealed item, so its part withholds nothing.
"""

from __future__ import annotations

from typing import Any

from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime
from mash_runtime.subject_access import Found, answer_subject_access, full_name, person_matches
from mash_schemas.subject_access import HeldItem, SubjectAccessRequest

from mash_intake.domain.contact import Contact
from mash_intake.store import IntakeStore, RetainedConsultations, RetainedContacts

TEXT_LIMIT = 3_900


def contact_item(contact: Contact, request: SubjectAccessRequest) -> HeldItem | None:
    """The contact as a held item when it names the person (by reference, referral or name and birth date)."""
    body: dict[str, Any] = contact.referral or contact.notification or {}
    people = list(body.get("subjects", [])) + list(body.get("household", []))
    ref = request.person.person_ref
    named = (contact.referral_id in request.referral_ids or (ref is not None and ref in contact.matched_person_refs)
             or any(person_matches(request, subject) for subject in body.get("subjects", [])))
    if not named:
        return None
    others = sorted({full_name(person) for person in people if not person_matches(request, person)})
    if contact.referral is not None:
        referrer = contact.referral.get("referrer", {})
        others.append(f"{referrer.get('name', 'unnamed')} (referrer)")
        concern = contact.referral.get("concern", {})
        summary = (f"Contact from {referrer.get('role', 'a referrer')} about "
                   f"{', '.join(concern.get('categories', []))}: {concern.get('narrative', '')}")
    else:
        summary = (f"Police notification ({body.get('notification_type', 'notification')}), "
                   f"{contact.status}: {body.get('narrative', '')}")
        others.append(f"{body.get('reporting_officer', 'officer')} (reporting officer)")
    return HeldItem(item_id=contact.referral_id, kind="contact", referral_id=contact.referral_id,
                    recorded_at=contact.received_at, summary=summary[:TEXT_LIMIT], third_parties=others)


class SubjectAccessFinder:
    """Searches intake's own contacts for a subject access request."""

    def __init__(self, store: IntakeStore) -> None:
        self._store = store

    async def find(self, request: SubjectAccessRequest) -> Found:
        """Intake's part: a held item per contact naming the person; nothing sealed."""
        items = [item for contact in await self._store.every_contact()
                 if (item := contact_item(contact, request)) is not None]
        return items, []


def govern(runtime: ServiceRuntime, store: IntakeStore) -> Governance:
    """Sweep and hold contacts and consultations by the retention schedule, and answer intake's part of each
    subject access request."""
    governance = Governance(runtime, [RetainedContacts(store), RetainedConsultations(store)])
    answer_subject_access(runtime, SubjectAccessFinder(store).find)
    return governance
