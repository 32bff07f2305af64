"""Enquiry's part of a subject access request: the requests sent to agencies about the person, and their answers.

An agency's non-sensitive items are given with whom they are about (a third party when not the person);
its sensitive items are never put on the part, sealed or not: each is named by reference only (agency, item
id, referral), because releasing it to the person needs the supplying agency's permission.
"""

from __future__ import annotations

from mash_runtime.subject_access import Found, full_name, names_the_person, person_matches
from mash_schemas.agency import Sensitivity
from mash_schemas.subject_access import HeldItem, SubjectAccessRequest, WithheldItem

from mash_enquiry.domain.enquiry_record import EnquiryRecord
from mash_enquiry.store import EnquiryStore

TEXT_LIMIT = 3_900


def record_part(record: EnquiryRecord, request: SubjectAccessRequest) -> Found:
    """One enquiry's requests and answers, if the enquiry is about the person."""
    enquiry = record.enquiry
    subjects = [subject.model_dump(mode="json") for subject in enquiry.subjects]
    if enquiry.referral_id not in request.referral_ids and not any(person_matches(request, s) for s in subjects):
        return [], []
    people = subjects + [member.model_dump(mode="json") for member in enquiry.household]
    others = sorted({full_name(person) for person in people if not person_matches(request, person)})
    items = [HeldItem(
        item_id=f"{record.enquiry_id}/{agency}/request", kind="enquiry request", referral_id=enquiry.referral_id,
        recorded_at=record.opened_at, third_parties=others,
        summary=f"The hub asked {agency} what it knows of the family (due {sent.due_at:%d %B %Y %H:%M}).")
        for agency, sent in record.requests.items()]
    withheld: list[WithheldItem] = []
    for answer in [*record.responses.values(), *record.late_responses.values()]:
        for item in answer.items:
            if item.sensitivity is Sensitivity.SENSITIVE:
                withheld.append(WithheldItem(agency=answer.agency, item_id=item.item_id,
                                             referral_id=enquiry.referral_id))
                continue
            items.append(HeldItem(
                item_id=f"{record.enquiry_id}/{answer.agency}/{item.item_id}", kind=f"agency answer ({answer.agency})",
                referral_id=enquiry.referral_id, recorded_at=answer.responded_at,
                summary=f"About {item.about}: {item.summary}"[:TEXT_LIMIT],
                third_parties=[] if names_the_person(item.about, request.person) else [item.about]))
    return items, withheld


class SubjectAccessFinder:
    """Searches enquiry's own records for a subject access request."""

    def __init__(self, store: EnquiryStore) -> None:
        self._store = store

    async def find(self, request: SubjectAccessRequest) -> Found:
        """Enquiry's part: requests and non-sensitive answers as items, sensitive items as references."""
        items: list[HeldItem] = []
        withheld: list[WithheldItem] = []
        for record in await self._store.every_record():
            found, kept_back = record_part(record, request)
            items += found
            withheld += kept_back
        return items, withheld
