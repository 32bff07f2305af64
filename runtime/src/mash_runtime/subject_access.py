"""Each service's part of a subject access request, answered from its own database as an event.

A service hands in a finder (its own search of its own records) and this module does the rest the same way
in every service: it consumes `mash.subject-access.requested` in the group `<service>.subject-access`,
runs the finder, writes the answer with its `mash.subject-access.part` event in one document of the
service's own `subject_access_parts` collection (so the part is published even after a crash, and a
redelivered request answers nothing twice), and audits the search under the manager who asked.

Why parts by event and not a read of each database: no service reads another's (docs/architecture.md),
each service knows how its own records are shaped and sealed, and a service that is down answers when it
is back, from the topic, without the manager asking again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mash_schemas.envelope import derived_event_id
from mash_schemas.subject_access import (
    HeldItem,
    PersonIdentifiers,
    SubjectAccessPart,
    SubjectAccessPartAnswered,
    SubjectAccessRequest,
    SubjectAccessRequested,
    WithheldItem,
)
from mash_schemas.topics import SUBJECT_ACCESS_PART, SUBJECT_ACCESS_REQUESTED

from mash_runtime.auth import Principal
from mash_runtime.consuming import MessageOrigin
from mash_runtime.outbox import OutboxEntry
from mash_runtime.roles import Role
from mash_runtime.service import ServiceRuntime
from mash_runtime.store import Change

Found = tuple[list[HeldItem], list[WithheldItem]]
Finder = Callable[[SubjectAccessRequest], Awaitable[Found]]
PARTS_COLLECTION = "subject_access_parts"


def names_match(person_given: str | None, person_family: str, given: str | None, family: str | None) -> bool:
    """Whether a recorded name is the requester's: family names equal, given names equal when both known."""
    if not family or family.strip().casefold() != person_family.strip().casefold():
        return False
    return not (person_given and given) or person_given.strip().casefold() == given.strip().casefold()


def person_matches(request: SubjectAccessRequest, record: dict[str, Any]) -> bool:
    """Whether a recorded person (given_name, family_name, date_of_birth) is the subject of the request.

    Name and date of birth must both agree when both are recorded, so that a namesake is not given away.
    """
    person = request.person
    if not names_match(person.given_name, person.family_name, record.get("given_name"), record.get("family_name")):
        return False
    born = record.get("date_of_birth")
    return person.date_of_birth is None or born is None or str(born) == person.date_of_birth.isoformat()


def names_the_person(about: str, person: PersonIdentifiers) -> bool:
    """Whether an agency item's free-text `about` names the requester (else it is about a third party).

    Agencies write `about` as prose ("Gary Pike, mother's partner"), so the family name, and the given name
    when known, must appear in it; anything else is marked as a third party for redaction review.
    """
    said = about.casefold()
    return person.family_name.casefold() in said and (not person.given_name or person.given_name.casefold() in said)


def full_name(record: dict[str, Any]) -> str:
    """A recorded person's name, for the third-party marks."""
    return " ".join(part for part in (record.get("given_name"), record.get("family_name")) if part) or "unnamed"


def answer_subject_access(runtime: ServiceRuntime, finder: Finder) -> None:
    """Subscribe the service to subject access requests, answering each with its part (once)."""
    service = runtime.settings.service_name
    parts = runtime.store(PARTS_COLLECTION)
    part_topic = runtime.topic(SUBJECT_ACCESS_PART)

    async def on_request(event: SubjectAccessRequested, _: MessageOrigin) -> None:
        request = event.payload
        items, withheld = await finder(request)
        now = runtime.clock()
        part = SubjectAccessPartAnswered(
            event_id=derived_event_id(event.event_id, f"subject-access-part/{service}"),
            occurred_at=now, correlation_id=event.correlation_id, causation_id=event.event_id, producer=service,
            payload=SubjectAccessPart(request_id=request.request_id, service=service, answered_at=now,
                                      items=items, withheld=withheld),
        )

        def decide(state: dict[str, Any] | None) -> Change | None:
            if state is not None:
                return None
            # Only counts are kept here: the part itself is the event, and the assembly is decision's.
            return Change(
                state={"request_id": request.request_id, "answered_at": now, "items": len(items),
                       "withheld": len(withheld)},
                events=[OutboxEntry.of(part, part_topic, key=request.request_id)],
            )

        if await parts.apply(request.request_id, decide, event_id=str(event.event_id)):
            await runtime.audit.record(
                who=Principal(request.requested_by, frozenset({Role.MANAGER})), action="subject_access.search",
                referral_id=None, why=f"subject access request {request.request_id}",
                what={"request_id": request.request_id, "person_ref": request.person.person_ref,
                      "referral_ids": sorted({item.referral_id for item in items if item.referral_id}),
                      "items": len(items), "withheld": len(withheld)},
            )

    runtime.subscribe(SUBJECT_ACCESS_REQUESTED, SubjectAccessRequested, f"{service}.subject-access", on_request)
