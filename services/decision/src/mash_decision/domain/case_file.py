"""The case file: everything the desk holds on one referral, and the steps that move it to a decision.

A case moves awaiting_screening -> (routed_to_allocated_worker | awaiting_decision [-> enquiry_open ->
awaiting_decision]) -> decided. Screening confirms the BRAG rating and leaves the case awaiting the
manager, who either decides now or opens an enquiry first. Every step appends a history entry saying
who did what, when and why. The whole case file is one MongoDB document.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from mash_runtime.roles import Role
from mash_schemas import (
    AllocatedWorker,
    BragRating,
    ChildsVoice,
    Consent,
    ConsentStatus,
    Decision,
    Enquiry,
    EnquiryAddendum,
    EnquiryOutcome,
    HandoffItem,
    HouseholdMember,
    Outcome,
    Referral,
    ReferralAmendment,
    ReleasedItem,
    RiskAnalysis,
    SealedItem,
    Sensitivity,
    SubjectKind,
    Views,
    WithheldItem,
    is_releasable,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mash_decision.domain.recommendation import Recommendation, RecommendationRules, recommend
from mash_decision.domain.roles import DeskAction, require_permission
from mash_decision.domain.timescales import Deadline, Timescales


class CaseState(StrEnum):
    """Where a referral stands at the desk."""

    AWAITING_SCREENING = "awaiting_screening"
    ROUTED_TO_ALLOCATED_WORKER = "routed_to_allocated_worker"
    ENQUIRY_OPEN = "enquiry_open"
    AWAITING_DECISION = "awaiting_decision"
    DECIDED = "decided"
    TRANSFERRED = "transferred"  # closed here: the family lives in another hub's area (domain/transfer.py)


class CaseFileError(Exception):
    """A step the desk's rules do not allow on this case file."""


class StepOutOfOrder(CaseFileError):
    """The step does not fit where the case stands (e.g. opening an enquiry before screening)."""

    def __init__(self, step: str, state: CaseState) -> None:
        self.step = step
        self.state = state
        super().__init__(f"cannot {step} while the case is {state.value.replace('_', ' ')}")


class NotThisReferral(CaseFileError):
    """An amendment, enquiry outcome or addendum names another referral."""


class RatingChangeNeedsRationale(CaseFileError):
    """The screener changed intake's suggested rating without saying why."""


class NoAllocatedWorker(CaseFileError):
    """Intake matched no allocated social worker, so the case cannot go straight to one."""


class ConsentNotRechecked(CaseFileError):
    """Consent must be re-checked before an enquiry: given, or a recorded reason to proceed without it."""


class NoAgenciesChosen(CaseFileError):
    """An enquiry needs at least one partner agency."""


class EnquiryNotOnCase(CaseFileError):
    """The enquiry outcome or addendum is for an enquiry this case did not open."""


class EnquiryAlreadyCompleted(CaseFileError):
    """A different outcome arrived for an enquiry that has already completed."""


class DecisionAlreadyMade(CaseFileError):
    """The referral already has its decision; a second one is refused."""


class DecisionNeedsRationale(CaseFileError):
    """Every decision is recorded with the manager's rationale."""


class HandoffItemNotOnCase(CaseFileError):
    """A hand-off names an item that no agency supplied on this case (or names it ambiguously)."""


class HandoffItemNotReleasable(CaseFileError):
    """A hand-off names a sensitive item its agency has not permitted to leave the hub.

    Such an item never goes into a hand-off: the receiving service is told only that the agency holds
    information, and how to request it (every withheld item on the case produces that notice anyway).
    """


class TransferRefused(CaseFileError):
    """A transfer the rules do not allow: decided, to this very hub, to a second hub, or with no reason."""


class AmendmentAfterScreening(CaseFileError):
    """A referrer's amendment arrived after screening; the referrer must make a new contact instead."""


class AnalysisChangeNeedsRationale(CaseFileError):
    """The manager changed the screener's risk analysis without saying why."""


class ChildsVoiceNotRecorded(CaseFileError):
    """The decision needs the child's wishes and feelings and the parents' views: known and what, or why not."""


class HistoryEntry(BaseModel):
    """One line of the case file's audit trail: who (and in what role), when, what, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    by: str
    role: Role | None = Field(None, description="None for a step taken by a service (intake, the research desk).")
    what: str
    why: str | None = None


class Screening(BaseModel):
    """The screening record: intake's suggested rating and the rating the screener confirmed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: str
    role: Role
    at: AwareDatetime
    suggested_rating: BragRating
    confirmed_rating: BragRating
    rationale: str | None = None
    childs_voice: ChildsVoice | None = Field(
        None, description="The child's wishes and feelings and the parents' views as known at screening.")


class RiskAnalysisRecord(BaseModel):
    """One version of the Signs of Safety analysis: the screener's, or the manager's sanction of it.

    Versions are only ever added: when the manager changes the analysis, the screener's stays on file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    analysis: RiskAnalysis
    stage: Literal["screening", "sanctioned", "changed_by_manager"]
    by: str
    role: Role
    at: AwareDatetime
    rationale: str | None = Field(None, description="Why the manager changed the screener's analysis.")


def _item_key(agency: str, item_id: str) -> str:
    # Agency ids never contain ':' (see AgencyName), so "agency:item" names an item without ambiguity.
    return f"{agency}:{item_id}"


# Sealed text shorter than this is not searched for in the rationale: redacting a word like "dog"
# everywhere would mangle it, and such fragments carry no intelligence on their own.
MIN_SEALED_MATCH = 8
WITHHELD_MARK = "[withheld: sensitive information held by {agency}]"


def without_sealed_text(text: str, sealed: list[SealedItem]) -> str:
    """`text` with every sensitive item's own words (summary, rating reason) cut out.

    A manager may quote an agency's sealed text in a rationale; the rationale travels on decision.made
    to services that may not read it, so the quotation is replaced by a mark naming the agency.
    """
    for each in sealed:
        for words in (each.item.summary, each.item.rating_reason):
            if words and len(words) >= MIN_SEALED_MATCH:
                text = re.sub(re.escape(words), WITHHELD_MARK.format(agency=each.agency), text, flags=re.IGNORECASE)
    return text


def analysis_without_sealed_text(analysis: RiskAnalysis, sealed: list[SealedItem]) -> RiskAnalysis:
    """The analysis with every sensitive item's own words cut out of each statement (see `without_sealed_text`)."""
    return analysis.with_statements(
        {name: without_sealed_text(words, sealed) for name, words in analysis.statements().items()})


def voice_without_sealed_text(voice: ChildsVoice, sealed: list[SealedItem]) -> ChildsVoice:
    """The child's voice with every sensitive item's own words cut out of what is recorded."""
    def cut(views: Views) -> Views:
        return views.model_copy(update={
            "views": without_sealed_text(views.views, sealed) if views.views else None,
            "detail": without_sealed_text(views.detail, sealed) if views.detail else None})
    return voice.model_copy(update={"child": cut(voice.child), "parents": cut(voice.parents)})


def _lawful_basis(rating: BragRating, adults_only: bool, consent: Consent) -> str:
    if adults_only:
        basis = "Care Act 2014 s42"
    elif rating is BragRating.RED:
        basis = "Children Act 1989 s47"
    elif rating is BragRating.AMBER:
        basis = "Children Act 1989 s17"
    else:
        basis = "Children Act 2004 s10"
    return f"{basis} {'with' if consent.status is ConsentStatus.GIVEN else 'without'} consent"


def _assume_utc(value: Any) -> Any:
    # A store may hand datetimes back without a timezone (BSON keeps UTC); the contract needs aware ones.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, dict):
        return {key: _assume_utc(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_assume_utc(inner) for inner in value]
    return value


class TransferRecord(BaseModel):
    """Where the case went when it was transferred to another hub, by whom, when and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to_hub: str
    to_hub_name: str
    by: str
    role: Role
    at: AwareDatetime
    reason: str


class CaseFile(BaseModel):
    """The aggregate for one referral at the manager's desk."""

    model_config = ConfigDict(extra="forbid")

    referral: Referral
    state: CaseState = CaseState.AWAITING_SCREENING
    opened_at: AwareDatetime
    decision_deadline: Deadline
    screening: Screening | None = None
    amendments: list[ReferralAmendment] = Field(default_factory=list)
    enquiry: Enquiry | None = None
    enquiry_outcome: EnquiryOutcome | None = None
    addenda: list[EnquiryAddendum] = Field(default_factory=list)
    decision: Decision | None = None
    transfer: TransferRecord | None = None
    risk_analyses: list[RiskAnalysisRecord] = Field(
        default_factory=list, description="The Signs of Safety analysis, every version, oldest first.")
    decided_childs_voice: ChildsVoice | None = Field(
        None, description="The child's voice as the manager recorded it with the decision, in the manager's own "
        "words (the decision's copy has any agency's sealed words cut out).")
    history: list[HistoryEntry] = Field(default_factory=list)

    @classmethod
    def open(cls, referral: Referral, timescales: Timescales, now: datetime) -> CaseFile:
        """A new case file for a referral intake accepted, with its decision deadline by suggested rating."""
        rating = referral.suggested_rating.rating
        deadline = timescales.decision_deadline(rating, referral.received_at)
        case = cls(referral=referral, opened_at=now, decision_deadline=deadline)
        case._note(
            now,
            "intake",
            None,
            f"referral received (suggested {rating.value}); decision due {deadline.due_at.isoformat()}",
            "; ".join(referral.suggested_rating.reasons) or None,
        )
        origin = referral.transferred_from
        if origin is not None:
            case._note(now, "intake", None,
                       f"transferred from {origin.hub_name} (their referral {origin.referral_id}, rated "
                       f"{origin.sending_rating.value} there)", origin.reason)
        return case

    # -- what the case file knows ------------------------------------------------------------------

    @property
    def referral_id(self) -> str:
        """The referral's id, which is also the case file's id."""
        return self.referral.referral_id

    @property
    def rating(self) -> BragRating:
        """The decision's rating once decided, the confirmed rating after screening, intake's suggestion before."""
        if self.decision is not None:
            return self.decision.rating
        if self.screening is not None:
            return self.screening.confirmed_rating
        return self.referral.suggested_rating.rating

    @property
    def risk_analysis(self) -> RiskAnalysis | None:
        """The analysis as it stands: the manager's sanctioned version once decided, else the screener's."""
        return self.risk_analyses[-1].analysis if self.risk_analyses else None

    @property
    def childs_voice(self) -> ChildsVoice | None:
        """The child's voice as decided, else as recorded at screening."""
        if self.decided_childs_voice is not None:
            return self.decided_childs_voice
        return self.screening.childs_voice if self.screening is not None else None

    @property
    def consent(self) -> Consent:
        """The latest consent position: the referrer's, as amended before screening."""
        for amendment in reversed(self.amendments):
            if amendment.consent is not None:
                return amendment.consent
        return self.referral.consent

    @property
    def household(self) -> list[HouseholdMember]:
        """The household as referred, plus members added by amendments."""
        added = [member for amendment in self.amendments for member in amendment.household_added]
        return [*self.referral.household, *added]

    @property
    def allocated_worker(self) -> AllocatedWorker | None:
        """The social worker intake found already allocated (the most confident match), if any."""
        matched = [match for match in self.referral.matches if match.allocated_worker is not None]
        if not matched:
            return None
        return max(matched, key=lambda match: match.confidence).allocated_worker

    def supplied_items(self) -> dict[str, HandoffItem]:
        """Every item agencies supplied on this case (findings, sealed, late answers), by 'agency:item_id'."""
        supplied: list[HandoffItem] = []
        if self.enquiry_outcome is not None:
            for findings in self.enquiry_outcome.findings:
                supplied += [HandoffItem(agency=findings.agency, item=item) for item in findings.items]
            supplied += [HandoffItem(agency=s.agency, item=s.item) for s in self.enquiry_outcome.sealed]
        for addendum in self.addenda:
            late = addendum.findings
            supplied += [HandoffItem(agency=late.agency, item=item) for item in late.items]
            supplied += [HandoffItem(agency=s.agency, item=s.item) for s in addendum.sealed]
        found = {_item_key(chosen.agency, chosen.item.item_id): chosen for chosen in supplied}
        return found

    def handoff_candidates(self) -> dict[str, HandoffItem]:
        """The items the manager may put into the hand-off: non-sensitive ones, and sensitive ones released.

        A sensitive item whose agency has not permitted release is never a candidate (see `withheld_items`).
        """
        return {key: chosen for key, chosen in self.supplied_items().items() if is_releasable(chosen.item)}

    def withheld_items(self) -> dict[str, WithheldItem]:
        """Every sensitive item on the case its agency has not released, as a reference, by 'agency:item_id'."""
        return {key: WithheldItem.of(chosen.agency, chosen.item) for key, chosen in self.supplied_items().items()
                if chosen.item.sensitivity is Sensitivity.SENSITIVE and not is_releasable(chosen.item)}

    def sealed_items(self) -> list[SealedItem]:
        """Every sensitive item on the case, in clear (the case file itself is sealed at rest)."""
        return [SealedItem(agency=chosen.agency, item=chosen.item) for chosen in self.supplied_items().values()
                if chosen.item.sensitivity is Sensitivity.SENSITIVE]

    def recommendation(self, rules: RecommendationRules | None = None) -> Recommendation | None:
        """The desk's recommendation once the enquiry has completed; None before."""
        if self.enquiry_outcome is None:
            return None
        return recommend(self.rating, self.enquiry_outcome, self.addenda, rules)

    # -- steps --------------------------------------------------------------------------------------

    def amend(self, amendment: ReferralAmendment) -> bool:
        """Add a referrer's correction before screening. False when this amendment is already on file."""
        self._same_referral(amendment.referral_id)
        if amendment in self.amendments:
            return False
        if self.state is not CaseState.AWAITING_SCREENING:
            raise AmendmentAfterScreening(
                f"referral {self.referral_id} is {self.state.value.replace('_', ' ')}; amendments are taken "
                "only before screening"
            )
        self.amendments.append(amendment)
        changes = []
        if amendment.additional_information:
            changes.append("information added")
        if amendment.household_added:
            changes.append(f"{len(amendment.household_added)} household member(s) added")
        if amendment.consent is not None:
            changes.append(f"consent now {amendment.consent.status.value}")
        self._note(
            amendment.amended_at,
            amendment.amended_by,
            None,
            "amended by the referrer: " + (", ".join(changes) or "no change"),
        )
        return True

    def screen(
        self,
        by: str,
        role: Role,
        *,
        confirmed_rating: BragRating,
        rationale: str | None,
        now: datetime,
        timescales: Timescales,
        risk_analysis: RiskAnalysis | None = None,
        childs_voice: ChildsVoice | None = None,
    ) -> None:
        """Confirm (or change, with a rationale) the BRAG rating; the decision deadline follows the rating.

        The screener may record the Signs of Safety analysis and the child's voice beside the rating; the
        manager sanctions the analysis with the decision.
        """
        require_permission(role, DeskAction.SCREEN)
        self._refuse_if_decided()
        if self.state is not CaseState.AWAITING_SCREENING:
            raise StepOutOfOrder("screen", self.state)
        suggested = self.referral.suggested_rating.rating
        reason = rationale.strip() if rationale else None
        if confirmed_rating is not suggested and not reason:
            raise RatingChangeNeedsRationale(
                f"changing the rating from {suggested.value} to {confirmed_rating.value} needs a rationale"
            )
        self.screening = Screening(
            by=by, role=role, at=now, suggested_rating=suggested, confirmed_rating=confirmed_rating, rationale=reason,
            childs_voice=childs_voice,
        )
        self.decision_deadline = timescales.decision_deadline(confirmed_rating, self.referral.received_at)
        self.state = CaseState.AWAITING_DECISION
        what = (
            f"screened: rating {confirmed_rating.value} confirmed"
            if confirmed_rating is suggested
            else f"screened: rating changed from {suggested.value} to {confirmed_rating.value}"
        )
        self._note(now, by, role, f"{what}; decision due {self.decision_deadline.due_at.isoformat()}", reason)
        if risk_analysis is not None:
            self.risk_analyses.append(
                RiskAnalysisRecord(analysis=risk_analysis, stage="screening", by=by, role=role, at=now))
            self._note(now, by, role, f"risk analysis recorded: safety scale {risk_analysis.safety_scale}/10")
        if childs_voice is not None:
            self._note(now, by, role, "the child's voice and the parents' views recorded")

    def route_to_allocated_worker(
        self,
        by: str,
        role: Role,
        *,
        now: datetime,
        rationale: str | None = None,
        rules: RecommendationRules | None = None,
        decision_id: str | None = None,
    ) -> Decision:
        """Pass the referral straight to the social worker already allocated: no enquiry."""
        require_permission(role, DeskAction.ROUTE_TO_ALLOCATED_WORKER)
        self._refuse_if_decided()
        if self.state is not CaseState.AWAITING_SCREENING:
            raise StepOutOfOrder("route to the allocated worker", self.state)
        worker = self.allocated_worker
        if worker is None:
            raise NoAllocatedWorker(f"referral {self.referral_id} has no allocated social worker")
        reason = (rationale or "").strip() or (
            f"Already allocated to {worker.name} ({worker.team}); passed straight to the allocated worker."
        )
        rules = rules or RecommendationRules()
        decision = self._decision(
            decision_id=decision_id,
            by=by,
            now=now,
            rating=self.rating,
            outcome=Outcome.ALLOCATED_WORKER,
            receiving_service=rules.receiving_service(Outcome.ALLOCATED_WORKER),
            rationale=reason,
            handoff_items=[],
            allocated_worker=worker,
            route="allocated_worker",
        )
        self.state = CaseState.ROUTED_TO_ALLOCATED_WORKER
        self._note(now, by, role, f"routed to the allocated worker {worker.name} ({worker.team})", reason)
        return decision

    def open_enquiry(
        self,
        by: str,
        role: Role,
        *,
        agencies: list[str],
        consent_check: ConsentStatus | None,
        proceed_without_consent_reason: str | None,
        questions: list[str],
        now: datetime,
        timescales: Timescales,
        enquiry_id: str | None = None,
    ) -> Enquiry:
        """Open a MASH enquiry with the chosen agencies, after re-checking consent; returns its payload."""
        require_permission(role, DeskAction.OPEN_ENQUIRY)
        self._refuse_if_decided()
        if self.state is not CaseState.AWAITING_DECISION or self.screening is None:
            raise StepOutOfOrder("open an enquiry", self.state)
        if self.enquiry is not None:
            raise StepOutOfOrder("open a second enquiry", self.state)
        chosen = list(dict.fromkeys(agencies))
        if not chosen:
            raise NoAgenciesChosen("choose at least one partner agency for the enquiry")
        consent = self._rechecked_consent(by, consent_check, proceed_without_consent_reason, now)
        due_at = timescales.enquiry_due_at(self.rating, now, self.decision_deadline)
        adults_only = all(subject.kind is SubjectKind.ADULT_AT_RISK for subject in self.referral.subjects)
        self.enquiry = Enquiry(
            enquiry_id=enquiry_id or f"enq-{self.referral_id}",
            referral_id=self.referral_id,
            rating=self.rating,
            agencies=chosen,
            due_at=due_at,
            subjects=self.referral.subjects,
            household=self.household,
            questions=questions,
            consent=consent,
            lawful_basis=_lawful_basis(self.rating, adults_only, consent),
            opened_by=by,
        )
        self.state = CaseState.ENQUIRY_OPEN
        self._note(
            now,
            by,
            role,
            f"enquiry opened with {', '.join(chosen)}; due {due_at.isoformat()}",
            f"consent {consent.status.value}" + (f": {consent.reason}" if consent.reason else ""),
        )
        return self.enquiry

    def record_enquiry_outcome(self, outcome: EnquiryOutcome) -> bool:
        """File the research desk's collated findings. False when this very outcome is already on file."""
        self._same_referral(outcome.referral_id)
        if self.enquiry is None or outcome.enquiry_id != self.enquiry.enquiry_id:
            raise EnquiryNotOnCase(f"enquiry {outcome.enquiry_id} was not opened on referral {self.referral_id}")
        if self.enquiry_outcome is not None:
            if self.enquiry_outcome == outcome:
                return False
            raise EnquiryAlreadyCompleted(f"enquiry {outcome.enquiry_id} has already completed")
        if self.state is not CaseState.ENQUIRY_OPEN:
            raise StepOutOfOrder("record an enquiry outcome", self.state)
        self.enquiry_outcome = outcome
        self.state = CaseState.AWAITING_DECISION
        why = None
        if outcome.not_answered:
            why = f"no answer from {', '.join(sorted(outcome.not_answered))}"
        completion = "all agencies answered" if outcome.completion == "all_answered" else "due time passed"
        self._note(outcome.completed_at, "research desk", None, f"enquiry completed: {completion}", why)
        return True

    def add_addendum(self, addendum: EnquiryAddendum, now: datetime) -> bool:
        """Keep an agency's late answer on the case, even after the decision. False when already on file."""
        self._same_referral(addendum.referral_id)
        if self.enquiry is None or addendum.enquiry_id != self.enquiry.enquiry_id:
            raise EnquiryNotOnCase(f"enquiry {addendum.enquiry_id} was not opened on referral {self.referral_id}")
        if addendum in self.addenda:
            return False
        self.addenda.append(addendum)
        after = " after the decision" if self.decision is not None else ""
        self._note(now, "research desk", None, f"late answer from {addendum.findings.agency} added{after}")
        return True

    def decide(
        self,
        by: str,
        role: Role,
        *,
        outcome: Outcome,
        receiving_service: str | None,
        rationale: str,
        handoff_item_ids: list[str],
        now: datetime,
        rating: BragRating | None = None,
        rules: RecommendationRules | None = None,
        decision_id: str | None = None,
        risk_analysis: RiskAnalysis | None = None,
        risk_analysis_rationale: str | None = None,
        childs_voice: ChildsVoice | None = None,
        require_childs_voice: bool = False,
    ) -> Decision:
        """Record the MASH manager's decision with its rationale and the items chosen for the hand-off.

        The manager sanctions the risk analysis with the rating: the screener's as it stands, or the
        manager's own version (`risk_analysis`), which needs `risk_analysis_rationale` when it changes the
        screener's; the screener's version stays on file. `childs_voice` (else the one recorded at
        screening) goes with the decision; with `require_childs_voice` a decision without it is refused.

        `rating` defaults to the recommendation's after an enquiry, else to the screening rating;
        `receiving_service` defaults to the hub's service for the outcome; items are named
        'agency:item_id' (or by item id alone when only one agency supplied an item with that id).
        A sensitive item its agency has not released is refused (HandoffItemNotReleasable); every such
        item on the case goes on the decision as a reference (who holds it, how to request it) instead.
        """
        require_permission(role, DeskAction.DECIDE)
        self._refuse_if_decided()
        if self.state is not CaseState.AWAITING_DECISION or self.screening is None:
            raise StepOutOfOrder("decide", self.state)
        reason = rationale.strip()
        if not reason:
            raise DecisionNeedsRationale("a decision needs the manager's rationale")
        items = self._chosen_items(handoff_item_ids)
        sanctioned = self._sanctioned_analysis(by, role, now, analysis=risk_analysis, rationale=risk_analysis_rationale)
        voice = childs_voice or (self.screening.childs_voice if self.screening is not None else None)
        if voice is None and require_childs_voice:
            raise ChildsVoiceNotRecorded(
                "record whether the child's wishes and feelings and the parents' views are known, what they are, "
                "and if not, why not (too young, seeking them would put the child at risk, or not yet possible)"
            )
        rules = rules or RecommendationRules()
        worker = None
        if outcome is Outcome.ALLOCATED_WORKER:
            worker = self.allocated_worker
            if worker is None:
                raise NoAllocatedWorker(f"referral {self.referral_id} has no allocated social worker")
        recommended = self.recommendation(rules)
        decided_rating = rating or (recommended.rating if recommended is not None else self.rating)
        service = (receiving_service or "").strip() or rules.receiving_service(outcome)
        decision = self._decision(
            decision_id=decision_id,
            by=by,
            now=now,
            rating=decided_rating,
            outcome=outcome,
            receiving_service=service,
            rationale=reason,
            handoff_items=items,
            allocated_worker=worker,
            route="enquiry" if self.enquiry is not None else "screening",
            risk_analysis=sanctioned.analysis if sanctioned is not None else None,
            childs_voice=voice,
        )
        self.state = CaseState.DECIDED
        self.decided_childs_voice = voice
        if sanctioned is not None:
            self._note_sanction(sanctioned)
        if childs_voice is not None and self.screening is not None and self.screening.childs_voice != childs_voice:
            self._note(now, by, role, "the child's voice and the parents' views recorded with the decision")
        self._note(now, by, role, f"decided: {outcome.value} ({decided_rating.value}) to {service}", reason)
        return decision

    def transfer_to(
        self, by: str, role: Role, *, to_hub: str, to_hub_name: str, this_hub: str, reason: str, now: datetime
    ) -> bool:
        """Close the case as transferred to the hub whose area the family lives in.

        Allowed before the decision and not while an enquiry is out (its answers are what the receiving
        hub would want shared). False when the case already went to that very hub (a retried request);
        a second, different destination is refused.
        """
        require_permission(role, DeskAction.TRANSFER)
        why = reason.strip()
        if self.transfer is not None:
            if self.transfer.to_hub == to_hub:
                return False
            raise TransferRefused(f"referral {self.referral_id} was already transferred to {self.transfer.to_hub_name}")
        self._refuse_if_decided()
        if to_hub == this_hub:
            raise TransferRefused("a contact cannot be transferred to the hub that holds it")
        if not why:
            raise TransferRefused("a transfer needs its reason (e.g. where the family now lives)")
        if self.state not in (CaseState.AWAITING_SCREENING, CaseState.AWAITING_DECISION):
            raise StepOutOfOrder("transfer to another hub", self.state)
        self.transfer = TransferRecord(to_hub=to_hub, to_hub_name=to_hub_name, by=by, role=role, at=now, reason=why)
        self.state = CaseState.TRANSFERRED
        self._note(now, by, role, f"transferred to {to_hub_name}", why)
        return True

    # -- storage ------------------------------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """The case file as one plain, JSON-compatible document (ISO-8601 text for times)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> CaseFile:
        """Rebuild a case file from its document; keys the store adds (`_id`, outbox, ...) are ignored."""
        fields = {key: value for key, value in document.items() if key in cls.model_fields}
        return cls.model_validate(_assume_utc(fields))

    # -- internals ----------------------------------------------------------------------------------

    def _note(self, at: datetime, by: str, role: Role | None, what: str, why: str | None = None) -> None:
        self.history.append(HistoryEntry(at=at, by=by, role=role, what=what, why=why))

    def _sanctioned_analysis(
        self, by: str, role: Role, now: datetime, *, analysis: RiskAnalysis | None, rationale: str | None
    ) -> RiskAnalysisRecord | None:
        """The analysis the manager sanctions with the decision (not yet on file); None when there is none."""
        screeners = self.risk_analysis
        why = rationale.strip() if rationale else None
        if analysis is None or analysis == screeners:
            if screeners is None:
                return None
            return RiskAnalysisRecord(analysis=screeners, stage="sanctioned", by=by, role=role, at=now, rationale=why)
        if screeners is not None and not why:
            raise AnalysisChangeNeedsRationale(
                "changing the screener's risk analysis needs a rationale (risk_analysis_rationale)")
        stage: Literal["sanctioned", "changed_by_manager"] = "changed_by_manager" if screeners else "sanctioned"
        return RiskAnalysisRecord(analysis=analysis, stage=stage, by=by, role=role, at=now, rationale=why)

    def _note_sanction(self, record: RiskAnalysisRecord) -> None:
        self.risk_analyses.append(record)
        scale = record.analysis.safety_scale
        if record.stage == "changed_by_manager":
            before = self.risk_analyses[-2].analysis.safety_scale
            what = (f"risk analysis changed by the manager (safety scale {before}/10 to {scale}/10); "
                    "the screener's version is kept")
        else:
            what = f"risk analysis sanctioned: safety scale {scale}/10"
        self._note(record.at, record.by, record.role, what, record.rationale)

    def _same_referral(self, referral_id: str) -> None:
        if referral_id != self.referral_id:
            raise NotThisReferral(f"{referral_id} is not referral {self.referral_id}")

    def _refuse_if_decided(self) -> None:
        if self.transfer is not None:
            raise TransferRefused(f"referral {self.referral_id} was transferred to {self.transfer.to_hub_name}")
        if self.decision is not None:
            raise DecisionAlreadyMade(
                f"referral {self.referral_id} was decided by {self.decision.decided_by} "
                f"at {self.decision.decided_at.isoformat()}"
            )

    def _rechecked_consent(
        self, by: str, status: ConsentStatus | None, proceed_reason: str | None, now: datetime
    ) -> Consent:
        reason = proceed_reason.strip() if proceed_reason else None
        if status is ConsentStatus.GIVEN:
            return Consent(status=status, reason=reason, recorded_by=by, recorded_at=now)
        if not reason:
            raise ConsentNotRechecked(
                "re-check consent before the enquiry: record that it was given, or the reason to proceed without it"
            )
        return Consent(status=status or ConsentStatus.NOT_SOUGHT, reason=reason, recorded_by=by, recorded_at=now)

    def _chosen_items(self, item_ids: list[str]) -> list[HandoffItem]:
        supplied = self.supplied_items()
        chosen: list[HandoffItem] = []
        for wanted in dict.fromkeys(item_ids):
            if wanted in supplied:
                found = supplied[wanted]
            else:
                by_id = [item for key, item in supplied.items() if key.split(":", 1)[1] == wanted]
                if len(by_id) != 1:
                    problem = ("is not on this case" if not by_id
                               else "was supplied by several agencies; name the agency")
                    raise HandoffItemNotOnCase(f"hand-off item {wanted!r} {problem}")
                found = by_id[0]
            if not is_releasable(found.item):
                raise HandoffItemNotReleasable(
                    f"hand-off item {wanted!r} is sensitive and {found.agency} has not permitted its release: it "
                    f"cannot go into the hand-off; the receiving service is told that {found.agency} holds "
                    "information and how to request it"
                )
            chosen.append(found)
        return chosen

    def _decision(
        self,
        *,
        decision_id: str | None,
        by: str,
        now: datetime,
        rating: BragRating,
        outcome: Outcome,
        receiving_service: str,
        rationale: str,
        handoff_items: list[HandoffItem],
        allocated_worker: AllocatedWorker | None,
        route: Literal["screening", "enquiry", "allocated_worker"],
        risk_analysis: RiskAnalysis | None = None,
        childs_voice: ChildsVoice | None = None,
    ) -> Decision:
        sealed = self.sealed_items()
        self.decision = Decision(
            decision_id=decision_id or f"dec-{self.referral_id}",
            referral_id=self.referral_id,
            decided_by=by,
            decided_at=now,
            referral_received_at=self.referral.received_at,
            rating=rating,
            outcome=outcome,
            receiving_service=receiving_service,
            allocated_worker=allocated_worker,
            rationale=without_sealed_text(rationale, sealed),
            referrer=self.referral.referrer,
            subjects=self.referral.subjects,
            concern=self.referral.concern,
            released_items=[ReleasedItem.of(chosen.agency, chosen.item) for chosen in handoff_items],
            withheld_items=list(self.withheld_items().values()),
            agencies_consulted=self.enquiry.agencies if self.enquiry is not None else [],
            within_timescale=now <= self.decision_deadline.due_at,
            route=route,
            lawful_basis=self.referral.lawful_basis,
            consent=self.enquiry.consent if self.enquiry is not None else self.consent,
            # What leaves the hub: the analysis and the views with any agency's sealed words cut out.
            risk_analysis=analysis_without_sealed_text(risk_analysis, sealed) if risk_analysis else None,
            childs_voice=voice_without_sealed_text(childs_voice, sealed) if childs_voice else None,
            **self._ratings_on_the_way(rating, rationale),
        )
        return self.decision

    def _ratings_on_the_way(self, decided: BragRating, rationale: str) -> dict[str, Any]:
        """The suggested and screened ratings, who screened, and whether each change had a rationale: what
        insight's threshold-consistency figures count (whether a rationale was recorded, never its words)."""
        screening = self.screening
        return {
            "suggested_rating": self.referral.suggested_rating.rating,
            "screened_rating": screening.confirmed_rating if screening is not None else None,
            "screened_by": screening.by if screening is not None else None,
            "screening_rationale_recorded": bool(screening.rationale) if screening is not None else None,
            "rating_change_rationale_recorded": (bool(rationale.strip()) if screening is not None
                                                 and decided is not screening.confirmed_rating else None),
        }
