"""Subject access on the manager's desk: start a request, find decision's own part, assemble the parts, export.

A manager starts a request with the person's identifiers and a reason; the desk finds the referrals whose
case files name the person, keeps the request (sealed at rest) with its deadline of one calendar month, and
publishes `subject-access.requested` from the request's own outbox. Every service, decision included,
answers its part on `subject-access.part`; the desk keeps each part on the request. The export is the
assembled answer, every item naming other people and every sealed item marked for redaction review, sealed
items shown only as "withheld until <agency> gives permission". A manager may extend the deadline by two
further months, once, within the first month, with the reason the person is told. Every start, extension,
list and export is audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal
from mash_runtime.clock import Clock, utc_now
from mash_runtime.http import DomainError, Refusal, refusals_answered
from mash_runtime.outbox import OutboxEntry
from mash_runtime.settings import HubSettings
from mash_runtime.subject_access import full_name, names_the_person, person_matches
from mash_schemas.agency import Sensitivity
from mash_schemas.envelope import derived_event_id
from mash_schemas.subject_access import (
    HeldItem,
    PersonIdentifiers,
    ReleasePermissionRequest,
    SubjectAccessPartAnswered,
    SubjectAccessPermissionAnswered,
    SubjectAccessPermissionRequested,
    SubjectAccessRequest,
    SubjectAccessRequested,
    WithheldItem,
)
from mash_schemas.topics import SUBJECT_ACCESS_PERMISSION_REQUESTED, SUBJECT_ACCESS_REQUESTED

from mash_decision.domain.case_file import CaseFile
from mash_decision.domain.quality_audit import QualityAuditRecord
from mash_decision.domain.subject_access import (
    ExtensionNeedsReason,
    SubjectAccessCase,
    SubjectAccessError,
    one_calendar_month,
)
from mash_decision.store import DecisionStore, QualityAuditStore, SubjectAccessStore

TEXT_LIMIT = 3_900


class RequestNotFound(DomainError):
    """No subject access request with that id."""

    status = 404


class ExtensionRefused(DomainError):
    """The deadline cannot be extended: it already was, or it has passed (a conflict with the request's state)."""

    status = 409


class ExtensionReasonMissing(DomainError):
    """An extension without a reason: the person must be told why."""

    status = 422


# How the desk answers a subject access request's refusals (mash_runtime.http.refusals_answered); the specific
# refusal comes before SubjectAccessError, its base.
REQUEST_REFUSALS: tuple[Refusal, ...] = (
    (ExtensionNeedsReason, ExtensionReasonMissing, "reason"),
    (SubjectAccessError, ExtensionRefused, None),
)


def _names_person(case: CaseFile, request: SubjectAccessRequest) -> bool:
    ref = request.person.person_ref
    if ref and any(match.person_ref == ref for match in case.referral.matches):
        return True
    return any(person_matches(request, subject.model_dump(mode="json")) for subject in case.referral.subjects)


def _others(case: CaseFile, request: SubjectAccessRequest) -> list[str]:
    """Everyone else the case file names: other subjects, the household and the referrer."""
    people = [subject.model_dump(mode="json") for subject in case.referral.subjects]
    people += [member.model_dump(mode="json") for member in case.household]
    names = [full_name(person) for person in people if not person_matches(request, person)]
    return sorted({*names, f"{case.referral.referrer.name} (referrer)"})


def case_file_part(cases: list[CaseFile], request: SubjectAccessRequest) -> tuple[list[HeldItem], list[WithheldItem]]:
    """What decision holds about the person: each case file's referral, screening, agency items and decision."""
    items: list[HeldItem] = []
    withheld: list[WithheldItem] = []
    for case in cases:
        if not (case.referral_id in request.referral_ids or _names_person(case, request)):
            continue
        referral = case.referral
        others = _others(case, request)
        concern = ", ".join(category.value for category in referral.concern.categories)
        items.append(HeldItem(
            item_id=f"{case.referral_id}/referral", kind="case file: referral", referral_id=case.referral_id,
            recorded_at=referral.received_at, third_parties=others,
            summary=f"Referral from {referral.referrer.role} about {concern}: "
                    f"{referral.concern.narrative}"[:TEXT_LIMIT]))
        if case.screening is not None:
            items.append(HeldItem(
                item_id=f"{case.referral_id}/screening", kind="case file: screening", referral_id=case.referral_id,
                recorded_at=case.screening.at,
                summary=f"Rated {case.screening.confirmed_rating.value} at screening"
                        + (f": {case.screening.rationale}" if case.screening.rationale else "")))
        for key, chosen in case.supplied_items().items():
            if chosen.item.sensitivity is Sensitivity.SENSITIVE:
                # Never on the wire: a reference only, released once the agency permits.
                withheld.append(WithheldItem(agency=chosen.agency, item_id=chosen.item.item_id,
                                             referral_id=case.referral_id))
                continue
            items.append(HeldItem(
                item_id=f"{case.referral_id}/{key}", kind=f"agency information ({chosen.agency})",
                referral_id=case.referral_id, summary=f"About {chosen.item.about}: {chosen.item.summary}"[:TEXT_LIMIT],
                third_parties=[] if names_the_person(chosen.item.about, request.person) else [chosen.item.about]))
        if case.decision is not None:
            # The rationale as published: sealed text already cut out by the case file.
            items.append(HeldItem(
                item_id=f"{case.referral_id}/decision", kind="case file: decision", referral_id=case.referral_id,
                recorded_at=case.decision.decided_at, third_parties=others,
                summary=f"Decided {case.decision.outcome.value} ({case.decision.rating.value}), to "
                        f"{case.decision.receiving_service}: {case.decision.rationale}"[:TEXT_LIMIT]))
    return items, withheld


def quality_audit_item(audit: QualityAuditRecord) -> HeldItem:
    """A practice lead's audit of a case in the dip sample, as the person may be given it after review."""
    agreed = "agrees" if audit.agrees_with_decision else "disagrees"
    return HeldItem(
        item_id=f"{audit.referral_id}/quality-audit", kind="quality assurance audit", referral_id=audit.referral_id,
        recorded_at=audit.audited_at,
        summary=f"Audited in the dip sample of {audit.week}: the practice lead {agreed} with the decision and graded "
                f"the practice {audit.grade.value.replace('_', ' ')}: {audit.learning}"[:TEXT_LIMIT])


class SubjectAccessDesk:
    """Subject access requests: start, parts, list and export."""

    def __init__(self, settings: HubSettings, requests: SubjectAccessStore, *, case_files: DecisionStore,
                 audit: AuditLog, clock: Clock = utc_now, quality_audits: QualityAuditStore | None = None) -> None:
        self._settings = settings
        self._requests = requests
        self._case_files = case_files
        self._audit = audit
        self._clock = clock
        self._quality_audits = quality_audits

    async def find_own_part(self, request: SubjectAccessRequest) -> tuple[list[HeldItem], list[WithheldItem]]:
        """Decision's own part, from its own case files and their quality audits (answered like every other
        service's)."""
        items, withheld = case_file_part(await self._case_files.every_case_file(), request)
        if self._quality_audits is not None:
            # A practice lead's audit of the person's case is about them too (issue 23): judgement and learning.
            for referral_id in sorted({item.referral_id for item in items if item.referral_id}):
                audit = await self._quality_audits.get(f"QA-{referral_id}")
                if audit is not None:
                    items.append(quality_audit_item(audit))
        return items, withheld

    async def start(self, principal: Principal, person: PersonIdentifiers, reason: str) -> SubjectAccessCase:
        """Keep the request with its deadline and publish it for every service to answer its part."""
        now = self._clock()
        request_id = f"SAR-{uuid.uuid4().hex[:12].upper()}"
        probe = SubjectAccessRequest(request_id=request_id, person=person, received_at=now, due_at=now,
                                     requested_by=principal.subject)
        referral_ids = sorted({item.referral_id for item in (await self.find_own_part(probe))[0]
                               if item.referral_id})
        due_on = one_calendar_month(now.date())
        case = SubjectAccessCase(request_id=request_id, person=person, reason=reason, requested_by=principal.subject,
                                 received_at=now, due_on=due_on, referral_ids=referral_ids)
        event = SubjectAccessRequested(
            event_id=derived_event_id(request_id, "subject-access.requested"), occurred_at=now,
            correlation_id=request_id, producer="decision",
            payload=probe.model_copy(update={
                "due_at": datetime.combine(due_on, time.max, tzinfo=UTC), "referral_ids": referral_ids}))
        entry = OutboxEntry.of(event, self._settings.topic(SUBJECT_ACCESS_REQUESTED), key=request_id)

        def decide(_current: SubjectAccessCase | None) -> tuple[SubjectAccessCase, list[OutboxEntry]]:
            return case, [entry]  # a new request id: nothing to find under it

        await self._requests.change_request(request_id, decide)
        await self._audit.record(who=principal, action="subject_access.start", referral_id=None, why=reason,
                                 what={"request_id": request_id, "person_ref": person.person_ref,
                                       "referral_ids": referral_ids, "due_on": due_on.isoformat()})
        return case

    async def extend(self, request_id: str, principal: Principal, reason: str) -> dict[str, Any]:
        """Extend the deadline by two further months (Art. 12(3)); audited with the reason the person is told."""
        now = self._clock()
        kept: list[SubjectAccessCase] = []

        def decide(case: SubjectAccessCase | None) -> tuple[SubjectAccessCase, list[OutboxEntry]]:
            if case is None:
                raise RequestNotFound(f"no subject access request {request_id}")
            with refusals_answered(REQUEST_REFUSALS):
                case.extend(reason, principal.name or principal.subject, now)
            kept[:] = [case]
            return case, []

        await self._requests.change_request(request_id, decide)
        case = kept[0]
        extension = case.extension
        assert extension is not None
        await self._audit.record(who=principal, action="subject_access.extend", referral_id=None, why=reason,
                                 what={"request_id": request_id, "person_ref": case.person.person_ref,
                                       "referral_ids": case.referral_ids,
                                       "original_due_on": extension.original_due_on.isoformat(),
                                       "due_on": case.due_on.isoformat()})
        return case.summary(now.date())

    async def record_part(self, event: SubjectAccessPartAnswered) -> None:
        """Keep one service's part on its request (once); a part for an unknown request changes nothing.

        Each sealed item it names for the first time becomes a permission request to its supplying agency,
        published (by reference only) for the agency portal.
        """
        now = self._clock()
        topic = self._settings.topic(SUBJECT_ACCESS_PERMISSION_REQUESTED)

        def decide(case: SubjectAccessCase | None) -> tuple[SubjectAccessCase, list[OutboxEntry]] | None:
            if case is None:
                return None
            asked = {p.permission_id for p in case.permission_requests}
            if not case.record_part(event.payload, now):
                return None
            events = [OutboxEntry.of(SubjectAccessPermissionRequested(
                event_id=derived_event_id(event.event_id, f"permission/{p.permission_id}"), occurred_at=now,
                correlation_id=case.request_id, causation_id=event.event_id, producer="decision",
                payload=ReleasePermissionRequest(
                    permission_id=p.permission_id, request_id=case.request_id, agency=p.agency, item_id=p.item_id,
                    referral_id=p.referral_id, requested_at=now, due_on=case.due_on)), topic, key=case.request_id)
                for p in case.permission_requests if p.permission_id not in asked]
            return case, events

        await self._requests.change_request(event.payload.request_id, decide, event_id=str(event.event_id))

    async def record_permission(self, event: SubjectAccessPermissionAnswered) -> None:
        """The supplying agency's answer about one sealed item, kept on the request."""
        answer = event.payload

        def decide(case: SubjectAccessCase | None) -> tuple[SubjectAccessCase, list[OutboxEntry]] | None:
            if case is None:
                return None
            changed = case.record_permission(answer.permission_id, permitted=answer.permitted,
                                             by=answer.answered_by, at=answer.answered_at, note=answer.note)
            return (case, []) if changed else None

        await self._requests.change_request(answer.request_id, decide, event_id=str(event.event_id))

    async def listing(self, principal: Principal) -> list[dict[str, Any]]:
        """Every request with its deadline (due, overdue) and the parts received; audited."""
        today = self._clock().date()
        found = [case.summary(today) for case in await self._requests.all()]
        await self._audit.record(who=principal, action="subject_access.list", referral_id=None,
                                 why="subject access requests and their deadlines",
                                 what={"requests": [entry["request_id"] for entry in found]})
        return found

    async def export(self, request_id: str, principal: Principal, reason: str, form: str) -> dict[str, Any] | None:
        """The assembled answer; audited once per referral it discloses (so "who looked" finds it by case)."""
        case = await self._requests.get(request_id)
        if case is None:
            return None
        now = self._clock()
        answer = case.export(now.date())
        released = await self._released_items(answer["withheld"])
        what = {"request_id": request_id, "person_ref": case.person.person_ref, "format": form,
                "items": [item["item_id"] for item in answer["items"]],
                "withheld": [f"{w['agency']}:{w['item_id']}" for w in answer["withheld"]]}
        disclosed: list[str | None] = list(case.referral_ids) or [None]
        for referral_id in disclosed:
            await self._audit.record(who=principal, action="subject_access.export", referral_id=referral_id,
                                     why=reason, what=what)
        for sealed in released:
            await self._audit.record(who=principal, action="subject_access.release", referral_id=sealed["referral_id"],
                                     why=reason, what={"request_id": request_id, "person_ref": case.person.person_ref,
                                                       "agency": sealed["agency"], "item_id": sealed["item_id"]})
        return answer

    async def _released_items(self, withheld: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Put the text of each sealed item its agency permitted into the answer, from decision's own case file.

        The item never travelled on a part: decision holds it (sealed at rest) since the enquiry completed.
        """
        released: list[dict[str, Any]] = []
        for sealed in withheld:
            if sealed["permission"] != "permitted" or sealed["service"] != "decision" or not sealed["referral_id"]:
                continue
            case_file = await self._case_files.get(sealed["referral_id"])
            chosen = case_file.supplied_items().get(f"{sealed['agency']}:{sealed['item_id']}") if case_file else None
            if chosen is not None:
                sealed["released"] = {"about": chosen.item.about, "summary": chosen.item.summary}
                released.append(sealed)
        return released

    async def referrals_of(self, person_ref: str, principal: Principal, reason: str) -> list[str]:
        """The referrals whose case files match the person's case-system reference (for "who looked"); audited."""
        found = sorted(case.referral_id for case in await self._case_files.every_case_file()
                       if any(match.person_ref == person_ref for match in case.referral.matches))
        # Kept apart from the records a report reads (no person_ref in `what`), so a report never lists itself.
        await self._audit.record(who=principal, action="find_referrals", referral_id=None, why=reason,
                                 what={"report_for": {"person": person_ref}, "referral_ids": found})
        return found
