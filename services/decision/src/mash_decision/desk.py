"""The manager's desk use cases: open case files, screen, open enquiries, decide, watch the clock.

Every change loads the case file, lets the domain rule on it, and stores it with the events it gives
rise to in one write. Event ids are derived from the referral, so a replay publishes nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mash_runtime import metrics
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal
from mash_runtime.clock import Clock, utc_now
from mash_runtime.http import DomainError, Refusal, refusals_answered
from mash_runtime.outbox import OutboxEntry
from mash_runtime.region import Region, RegionHub, UnknownHub
from mash_runtime.roles import Role
from mash_runtime.settings import HubSettings
from mash_runtime.transit import TransitOpener
from mash_schemas.common import BragRating, ConsentStatus
from mash_schemas.decision import Decision, DecisionMade, Outcome
from mash_schemas.enquiry import (
    EncryptedItem,
    EnquiryAddendum,
    EnquiryAddendumRecorded,
    EnquiryCompleted,
    EnquiryOpened,
    EnquiryOutcome,
    SealedItem,
)
from mash_schemas.envelope import derived_event_id
from mash_schemas.federation import ContactTransferred, TransferredContact, TransferSent
from mash_schemas.practice import SAFETY_SCALE_MEANING, ChildsVoice, RiskAnalysis
from mash_schemas.referral import ReferralAmended, ReferralReceived
from mash_schemas.timescale import TimescaleAlertRaised
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, FEDERATION_TRANSFER, TIMESCALE_ALERT, TRANSFER_SENT

from mash_decision.domain.case_file import (
    AmendmentAfterScreening,
    AnalysisChangeNeedsRationale,
    CaseFile,
    CaseFileError,
    CaseState,
    ChildsVoiceNotRecorded,
    HandoffItemNotReleasable,
)
from mash_decision.domain.case_file_views import case_file_view, handoff_choices
from mash_decision.domain.queue import QueueEntry, desk_queue
from mash_decision.domain.recommendation import RecommendationRules
from mash_decision.domain.roles import NotPermitted
from mash_decision.domain.timescales import Timescales
from mash_decision.domain.transfer import transfer_notice, transferred_contact
from mash_decision.store import DecisionStore

log = logging.getLogger(__name__)
PRODUCER = "decision"
ROUTING_RULE = "hub routing rule"


class CaseNotFound(DomainError):
    """No case file for that referral."""

    status = 404


class DeskRefused(DomainError):
    """A rule of the practice refused the step (out of order, rationale missing, ...)."""

    status = 409


class HandoffRefused(DomainError):
    """The decision names a hand-off item that may not leave the hub."""

    status = 422


class ReasoningMissing(DomainError):
    """The decision's reasoning is incomplete: no child's voice (known, or why not), or the manager changed
    the screener's risk analysis without saying why. 422 naming the field."""

    status = 422


class RoleRefused(DomainError):
    """The caller's role may not take this step."""

    status = 403


class NoSuchHub(DomainError):
    """The region names no other hub with that id (or this hub is in no region)."""

    status = 422


# How the desk answers the case file's refusals, in one place: every step and preview runs the case file's rules
# inside `refusals_answered(DESK_REFUSALS)`. Each specific refusal comes before CaseFileError, its base.
DESK_REFUSALS: tuple[Refusal, ...] = (
    (NotPermitted, RoleRefused, None),
    (HandoffItemNotReleasable, HandoffRefused, "handoff_item_ids"),
    (ChildsVoiceNotRecorded, ReasoningMissing, "childs_voice"),
    (AnalysisChangeNeedsRationale, ReasoningMissing, "risk_analysis_rationale"),
    (CaseFileError, DeskRefused, None),
)


def _no_case_file(referral_id: str) -> CaseNotFound:
    """The desk's answer when no case file has that referral id."""
    return CaseNotFound(f"no case file for {referral_id}", field="referral_id")


@dataclass(frozen=True)
class Reasoning:
    """The manager's reasoning beside the decision: the risk analysis sanctioned (or changed, and why) and
    the child's voice."""

    risk_analysis: RiskAnalysis | None = None
    risk_analysis_rationale: str | None = None
    childs_voice: ChildsVoice | None = None


def desk_role(principal: Principal) -> Role:
    """The most capable desk role the caller holds (manager over screener over analyst)."""
    for role in (Role.MANAGER, Role.SCREENER, Role.ANALYST, Role.AGENCY):
        if role.value in {r.value for r in principal.roles}:
            return role
    raise RoleRefused("this needs a hub role (screener, manager or analyst)")


class ManagersDesk:
    """The case files of one hub and what the screeners and MASH managers do with them."""

    def __init__(
        self,
        settings: HubSettings,
        cases: DecisionStore,
        *,
        timescales: Timescales,
        rules: RecommendationRules,
        audit: AuditLog,
        route_allocated_automatically: bool,
        transit: TransitOpener,
        clock: Clock = utc_now,
        region: Region | None = None,
        require_childs_voice: bool = True,
    ) -> None:
        self._settings = settings
        self._cases = cases
        # The one source of "now" for every step, so a test moves time instead of waiting for it.
        self._clock = clock
        self._timescales = timescales
        self._rules = rules
        self._audit = audit
        self._auto_route = route_allocated_automatically
        self._require_childs_voice = require_childs_voice
        self._transit = transit
        # The region's other hubs are where a contact may be transferred; None: a single hub, no transfers.
        self._region = region
        self._hub: RegionHub | None = region.hub_in(settings.topic_namespace) if region is not None else None

    # --- events from other services -------------------------------------------------------------

    async def open_case(self, event: ReferralReceived) -> None:
        """A referral arrived: open its case file; route it straight on if a worker is allocated."""
        referral = event.payload

        def decide(current: CaseFile | None) -> tuple[CaseFile, list[OutboxEntry]] | None:
            if current is not None:
                return None  # one case file per referral
            case = CaseFile.open(referral, self._timescales, referral.received_at)
            events: list[OutboxEntry] = []
            if self._auto_route and any(m.allocated_worker for m in referral.matches):
                decision = case.route_to_allocated_worker(
                    ROUTING_RULE, Role.MANAGER, now=self._clock(),
                    rationale="The child has an allocated social worker: the contact goes straight to them.",
                    rules=self._rules, decision_id=self._decision_id(referral.referral_id),
                )
                events.append(self._decision_event(decision))
            return case, events

        await self._cases.change_case(referral.referral_id, decide, event_id=str(event.event_id))
        log.info("case file opened", extra={"fields": {"referral_id": referral.referral_id}})

    async def _on_case(self, referral_id: str, event_id: str, step: Callable[[CaseFile], bool]) -> None:
        """Apply another service's event to a case file, storing it only if `step` says it changed."""

        def decide(case: CaseFile | None) -> tuple[CaseFile, list[OutboxEntry]] | None:
            if case is None:
                return None
            return (case, []) if step(case) else None

        await self._cases.change_case(referral_id, decide, event_id=event_id)

    async def amend_case(self, event: ReferralAmended) -> None:
        """A referrer's correction before screening; after screening it is logged, not applied."""
        amendment = event.payload

        def amend(case: CaseFile) -> bool:
            try:
                return case.amend(amendment)
            except AmendmentAfterScreening:
                log.warning("correction arrived after screening",
                            extra={"fields": {"referral_id": amendment.referral_id}})
                return False

        await self._on_case(amendment.referral_id, str(event.event_id), amend)

    def _opened(self, referral_id: str, encrypted: list[EncryptedItem]) -> list[SealedItem]:
        # Sensitive items arrive encrypted for this service's key; the case file (sealed at rest) keeps them.
        return [SealedItem(agency=each.agency, item=self._transit.open(referral_id, each)) for each in encrypted]

    def opened_outcome(self, outcome: EnquiryOutcome) -> EnquiryOutcome:
        """The outcome with its encrypted items opened (TransitSealBroken if one cannot be)."""
        opened = self._opened(outcome.referral_id, outcome.encrypted)
        return outcome.model_copy(update={"sealed": [*outcome.sealed, *opened], "encrypted": []})

    def opened_addendum(self, addendum: EnquiryAddendum) -> EnquiryAddendum:
        """The addendum with its encrypted items opened (TransitSealBroken if one cannot be)."""
        opened = self._opened(addendum.referral_id, addendum.encrypted)
        return addendum.model_copy(update={"sealed": [*addendum.sealed, *opened], "encrypted": []})

    async def record_enquiry(self, event: EnquiryCompleted) -> None:
        """The enquiry completed: the case awaits the manager's decision, with a recommendation."""
        outcome = self.opened_outcome(event.payload)
        await self._on_case(outcome.referral_id, str(event.event_id), lambda case: case.record_enquiry_outcome(outcome))
        log.info("enquiry outcome on file", extra={"fields": {"referral_id": outcome.referral_id,
                                                              "not_answered": outcome.not_answered}})

    async def record_addendum(self, event: EnquiryAddendumRecorded) -> None:
        """A late agency answer: kept on the case file as an addendum, even after the decision."""
        addendum = self.opened_addendum(event.payload)
        now = self._clock()
        await self._on_case(addendum.referral_id, str(event.event_id), lambda case: case.add_addendum(addendum, now))

    # --- the desk's own steps (HTTP) --------------------------------------------------------------

    async def _step(self, referral_id: str, principal: Principal, step: Any, *, what: str, why: str,
                    detail: Callable[[], dict[str, Any]] | None = None) -> CaseFile:
        role = desk_role(principal)
        result: dict[str, CaseFile] = {}

        def decide(case: CaseFile | None) -> tuple[CaseFile, list[OutboxEntry]]:
            if case is None:
                raise _no_case_file(referral_id)
            with refusals_answered(DESK_REFUSALS):
                events = step(case, role)
            result["case"] = case
            return case, events  # the store has them continue the referral's trace

        await self._cases.change_case(referral_id, decide)
        await self._audit.record(who=principal, action=what, referral_id=referral_id, why=why,
                                 what=detail() if detail is not None else None)
        return result["case"]

    async def screen(
        self, referral_id: str, principal: Principal, *, rating: BragRating, rationale: str | None,
        risk_analysis: RiskAnalysis | None = None, childs_voice: ChildsVoice | None = None,
    ) -> None:
        """Confirm or change the suggested rating (a change needs a rationale), with the risk analysis and
        the child's voice as far as the screener knows them."""
        def step(case: CaseFile, role: Role) -> list[OutboxEntry]:
            case.screen(principal.subject, role, confirmed_rating=rating, rationale=rationale, now=self._clock(),
                        timescales=self._timescales, risk_analysis=risk_analysis, childs_voice=childs_voice)
            return []

        await self._step(referral_id, principal, step, what="screen", why=rationale or "suggested rating confirmed")

    async def route_to_allocated_worker(self, referral_id: str, principal: Principal, rationale: str | None) -> None:
        """Pass the referral to the allocated social worker (no enquiry)."""
        def step(case: CaseFile, role: Role) -> list[OutboxEntry]:
            decision = case.route_to_allocated_worker(
                principal.subject, role, now=self._clock(), rationale=rationale, rules=self._rules,
                decision_id=self._decision_id(referral_id))
            return [self._decision_event(decision)]

        await self._step(referral_id, principal, step, what="route_to_allocated_worker",
                         why=rationale or "allocated worker")

    async def open_enquiry(
        self, referral_id: str, principal: Principal, *, agencies: list[str], consent_check: ConsentStatus | None,
        proceed_without_consent_reason: str | None, questions: list[str],
    ) -> str:
        """Open a MASH enquiry with the chosen agencies; returns its id."""
        opened: dict[str, str] = {}

        def step(case: CaseFile, role: Role) -> list[OutboxEntry]:
            enquiry = case.open_enquiry(
                principal.subject, role, agencies=agencies, consent_check=consent_check,
                proceed_without_consent_reason=proceed_without_consent_reason, questions=questions,
                now=self._clock(), timescales=self._timescales, enquiry_id=f"ENQ-{referral_id}")
            opened["id"] = enquiry.enquiry_id
            event = EnquiryOpened.build(enquiry, correlation_id=referral_id, producer=PRODUCER,
                                        event_id=derived_event_id(enquiry.enquiry_id, "opened"))
            return [OutboxEntry.of(event, self._settings.topic(ENQUIRY_OPENED))]

        why = proceed_without_consent_reason or f"consent re-checked: {consent_check}"
        await self._step(referral_id, principal, step, what="open_enquiry", why=why)
        return opened["id"]

    async def decide(
        self, referral_id: str, principal: Principal, *, outcome: Outcome, receiving_service: str | None,
        rationale: str, handoff_item_ids: list[str], rating: BragRating | None,
        reasoning: Reasoning | None = None,
    ) -> Decision:
        """Record the manager's decision; decision.made goes to notify for hand-off and feedback."""
        made: dict[str, Decision] = {}

        def step(case: CaseFile, role: Role) -> list[OutboxEntry]:
            decision = case.decide(
                principal.subject, role, outcome=outcome, receiving_service=receiving_service, rationale=rationale,
                handoff_item_ids=handoff_item_ids, now=self._clock(), rating=rating, rules=self._rules,
                decision_id=self._decision_id(referral_id), **self._reasoning(reasoning))
            made["decision"] = decision
            return [self._decision_event(decision)]

        await self._step(referral_id, principal, step, what="decide", why=rationale)
        log.info("decision made", extra={"fields": {"referral_id": referral_id, "outcome": outcome.value}})
        return made["decision"]

    async def view(self, referral_id: str, principal: Principal, why: str) -> dict[str, Any]:
        """The case file as the caller's role may see it, with the recommendation; the view is audited."""
        role = desk_role(principal)
        case = await self._case_file(referral_id)
        with refusals_answered(DESK_REFUSALS):
            visible = case_file_view(case, role)
        await self._audit.record(who=principal, action="view_case_file", referral_id=referral_id, why=why,
                                 what={"role": role.value, "sealed_items_shown": visible is case})
        recommendation = visible.recommendation(self._rules)
        watch = self._timescales.watch(case.decision_deadline)
        suggested = self._transfer_suggestion(case)
        now = self._clock()
        return {
            "case_file": visible.to_document(),
            "recommendation": recommendation.model_dump(mode="json") if recommendation else None,
            # The front door's reasoning (issue 23): the analysis as it stands (every version is in
            # case_file.risk_analyses), what its scale means, and the child's voice.
            "risk_analysis": visible.risk_analysis.model_dump(mode="json") if visible.risk_analysis else None,
            "safety_scale_meaning": SAFETY_SCALE_MEANING,
            "childs_voice": visible.childs_voice.model_dump(mode="json") if visible.childs_voice else None,
            "handoff_candidates": sorted(visible.handoff_candidates()),
            # The same candidates labelled (agency, summary, sealed, the released wording), so that a page offering
            # them never rebuilds the labels from the raw case file.
            "handoff_choices": [choice.model_dump(mode="json") for choice in handoff_choices(visible)],
            # Sensitive items whose agency has not released them: never a candidate; each one becomes the
            # hand-off's notice of who holds information and how to request it.
            "withheld_items": [{"key": key, **withheld.model_dump(mode="json")}
                               for key, withheld in sorted(visible.withheld_items().items())],
            "timescale": {"status": watch.status(now).value, "minutes_left": watch.minutes_left(now),
                          "due_at": case.decision_deadline.due_at.isoformat()},
            # A prompt, never an action: the screener confirms a transfer (POST .../transfer) or ignores it.
            "transfer_suggestion": suggested,
        }

    def _transfer_suggestion(self, case: CaseFile) -> dict[str, str] | None:
        """The other hub whose area holds a subject's postcode, while the case may still be transferred."""
        if self._region is None or self._hub is None or case.state not in (
                CaseState.AWAITING_SCREENING, CaseState.AWAITING_DECISION):
            return None
        for subject in case.referral.subjects:
            postcode = subject.address.postcode if subject.address is not None else None
            hub = self._region.hub_for_postcode(postcode)
            if hub is not None and hub.id != self._hub.id:
                return {"to_hub": hub.id, "to_hub_name": hub.name, "postcode": postcode or "",
                        "why": f"a subject's postcode {postcode} is in {hub.name}'s area"}
        return None

    # --- transfer to another hub (issue 20) -------------------------------------------------------

    def _destination(self, to_hub: str) -> tuple[RegionHub, RegionHub]:
        if self._region is None or self._hub is None:
            raise NoSuchHub("this hub is in no region: there is no other hub to transfer to", field="to_hub")
        try:
            destination = self._region.hub(to_hub)
        except UnknownHub as exc:
            raise NoSuchHub(str(exc), field="to_hub") from exc
        return self._hub, destination

    async def transfer(self, referral_id: str, principal: Principal, to_hub: str, reason: str) -> TransferredContact:
        """Transfer the contact to the hub where the family lives; its case here closes as transferred.

        One write holds the closed case, `contact.transferred` for the receiving hub's own federation topic
        and `transfer.sent` for this hub (notify tells the referrer); both event ids derive from the
        transfer's identity, so a retry, a replay or a relay's second publish after a crash is one transfer.
        """
        here, destination = self._destination(to_hub)
        crossed: dict[str, TransferredContact] = {}

        def step(case: CaseFile, role: Role) -> list[OutboxEntry]:
            changed = case.transfer_to(principal.subject, role, to_hub=destination.id, to_hub_name=destination.name,
                                       this_hub=here.id, reason=reason, now=self._clock())
            contact = transferred_contact(case, here.id, here.name)
            crossed["contact"] = contact
            if not changed:
                return []
            transferred = ContactTransferred.build(
                contact, correlation_id=referral_id, producer=PRODUCER,
                event_id=derived_event_id(contact.transfer_id, "transferred"))
            sent = TransferSent.build(
                transfer_notice(case, here.id), correlation_id=referral_id, producer=PRODUCER,
                event_id=derived_event_id(contact.transfer_id, "sent"))
            return [OutboxEntry.of(transferred, destination.topic(FEDERATION_TRANSFER)),
                    OutboxEntry.of(sent, self._settings.topic(TRANSFER_SENT))]

        def audited() -> dict[str, Any]:
            origin = crossed["contact"].origin
            return {"to_hub": destination.id, "from_hub": here.id, "transfer_id": crossed["contact"].transfer_id,
                    "shared_findings": len(origin.shared_findings), "sealed_references": len(origin.sealed_references)}

        await self._step(referral_id, principal, step, what="transfer", why=reason, detail=audited)
        log.info("contact transferred", extra={"fields": {"referral_id": referral_id, "to_hub": destination.id}})
        return crossed["contact"]

    async def preview_transfer(
        self, referral_id: str, principal: Principal, to_hub: str, reason: str
    ) -> TransferredContact:
        """Exactly what `transfer` would send to the other hub, sending nothing (the preview is audited)."""
        here, destination = self._destination(to_hub)
        role = desk_role(principal)
        case = await self._case_file(referral_id)
        with refusals_answered(DESK_REFUSALS):
            case.transfer_to(principal.subject, role, to_hub=destination.id, to_hub_name=destination.name,
                             this_hub=here.id, reason=reason, now=self._clock())
        contact = transferred_contact(case, here.id, here.name)
        await self._audit.record(who=principal, action="preview_transfer", referral_id=referral_id, why=reason,
                                 what={"to_hub": destination.id,
                                       "shared_findings": len(contact.origin.shared_findings),
                                       "sealed_references": len(contact.origin.sealed_references)})
        return contact

    async def queue(
        self, principal: Principal, state: CaseState | None = None, rating: BragRating | None = None
    ) -> list[QueueEntry]:
        """Referrals awaiting screening or decision, most urgent first, optionally one state or rating.

        The queue names referrals and their clocks only; reading it is audited all the same.
        """
        desk_role(principal)
        cases = [case for case in await self._cases.open_cases()
                 if (state is None or case.state is state) and (rating is None or case.rating is rating)]
        entries = desk_queue(cases, self._timescales, self._clock())
        await self._audit.record(who=principal, action="view_queue", referral_id=None, why="the desk's queue",
                                 what={"state": state.value if state else None,
                                       "rating": rating.value if rating else None, "shown": len(entries)})
        return entries

    async def preview_decision(
        self, referral_id: str, principal: Principal, *, outcome: Outcome, receiving_service: str | None,
        rationale: str, handoff_item_ids: list[str], rating: BragRating | None,
        reasoning: Reasoning | None = None,
    ) -> Decision:
        """The decision exactly as `decide` would record it, without recording it (for the preview).

        The same rules run on a copy of the case file, so a preview that succeeds is the decision the
        manager then confirms; nothing is stored or published, and the preview is audited.
        """
        role = desk_role(principal)
        case = await self._case_file(referral_id)
        with refusals_answered(DESK_REFUSALS):
            decision = case.decide(
                principal.subject, role, outcome=outcome, receiving_service=receiving_service, rationale=rationale,
                handoff_item_ids=handoff_item_ids, now=self._clock(), rating=rating, rules=self._rules,
                decision_id=self._decision_id(referral_id), **self._reasoning(reasoning))
        await self._audit.record(who=principal, action="preview_decision", referral_id=referral_id, why=rationale,
                                 what={"outcome": outcome.value, "handoff_items": handoff_item_ids})
        return decision

    async def watch_clock(self) -> None:
        """Raise a timescale alert once per case and status (near breach, breach)."""
        now = self._clock()
        in_breach: dict[str, int] = {}
        for open_case in await self._cases.open_deadlines():
            referral_id = open_case.referral_id
            alert = self._timescales.watch(open_case.deadline).alert(referral_id, now)
            if alert is not None and alert.status == "breached":
                in_breach[alert.rating.value] = in_breach.get(alert.rating.value, 0) + 1
            if alert is None or alert.status in open_case.alerts_raised:
                continue

            def decide(case: CaseFile | None, status: str = alert.status) -> tuple[CaseFile, list[OutboxEntry]] | None:
                if case is None:
                    return None
                fresh = self._timescales.watch(case.decision_deadline).alert(case.referral_id, now)
                if fresh is None:
                    return None
                event = TimescaleAlertRaised.build(
                    fresh, correlation_id=fresh.referral_id, producer=PRODUCER,
                    event_id=derived_event_id(fresh.referral_id, f"timescale/{status}"))
                return case, [OutboxEntry.of(event, self._settings.topic(TIMESCALE_ALERT))]

            # The store raises each alert once per case and status, continuing the referral's trace.
            await self._cases.change_case(referral_id, decide, alert=alert.status)
            log.warning("timescale alert", extra={"fields": {"referral_id": referral_id,
                                                             "status": alert.status}})
        metrics.cases_in_breach(self._settings.service_name, in_breach)

    # --- helpers ----------------------------------------------------------------------------------

    async def _case_file(self, referral_id: str) -> CaseFile:
        case = await self._cases.get(referral_id)
        if case is None:
            raise _no_case_file(referral_id)
        return case

    def _reasoning(self, reasoning: Reasoning | None) -> dict[str, Any]:
        given = reasoning or Reasoning()
        return {"risk_analysis": given.risk_analysis, "risk_analysis_rationale": given.risk_analysis_rationale,
                "childs_voice": given.childs_voice, "require_childs_voice": self._require_childs_voice}

    @staticmethod
    def _decision_id(referral_id: str) -> str:
        return f"DEC-{referral_id}"

    def _decision_event(self, decision: Decision) -> OutboxEntry:
        event = DecisionMade.build(decision, correlation_id=decision.referral_id, producer=PRODUCER,
                                   event_id=derived_event_id(decision.decision_id, "made"))
        return OutboxEntry.of(event, self._settings.topic(DECISION_MADE))
