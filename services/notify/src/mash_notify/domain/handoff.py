"""The hand-off gate: the only way a decision's information leaves the hub for the receiving service.

This is where the sealed intelligence hub is enforced on the way out. A non-sensitive item goes in
full; a sensitive item goes only in the wording its owning agency permitted; a sensitive item without
permission becomes a notice saying who holds information and how to request it. The summary models
below have no field that could carry a sealed item's own text, so templates rendered from them cannot
leak it.

Notify needs no sealed text to do this, and does not receive any: `decision.made` carries each chosen
item already in its releasable form (`released_items`) and only references to the items whose release is
not permitted (`withheld_items`), with the rationale already cleared of sealed text by the decision
service. Decisions written before that change carried whole items (`handoff_items`); they are still
read, through the same gate and the same last check as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Literal

from mash_schemas import (
    Address,
    AllocatedWorker,
    BragRating,
    Decision,
    HandoffItem,
    Outcome,
    Referrer,
    ReleasedItem,
    Sensitivity,
    Subject,
    SubjectKind,
    WithheldItem,
    is_releasable,
)
from mash_schemas.governance import LawfulBasis
from mash_schemas.practice import COLUMNS, SAFETY_SCALE_MEANING, ChildsVoice, RiskAnalysis, views_line
from pydantic import BaseModel, ConfigDict

from mash_notify.domain.wording import agency_title, sentence, subject_name, subjects_possessive

# Sealed text shorter than this is not searched for in free text: redacting a word like "dog"
# everywhere would mangle the rationale, and such fragments carry no intelligence on their own.
MIN_SEALED_MATCH = 8

WITHHELD_MARK = "[withheld: sensitive information held by {agency}]"


class SealedHubBreachError(Exception):
    """The hand-off would carry the text of a sensitive item its agency has not released."""

    def __init__(self, agency: str, item_id: str) -> None:
        super().__init__(
            f"the hand-off would carry sensitive item {item_id!r} from {agency} without its permission; "
            "the hand-off was stopped"
        )
        self.agency = agency
        self.item_id = item_id


class _Summary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubjectDetails(_Summary):
    """What the receiving service needs to identify a subject."""

    name: str
    kind: SubjectKind
    date_of_birth: date | None = None
    expected_date: date | None = None
    estimated_age: int | None = None
    nhs_number: str | None = None
    address: str | None = None


class NamedReferrer(_Summary):
    """A professional referrer, named so the receiving service can talk to them."""

    name: str
    role: str
    organisation: str | None = None
    email: str | None = None
    phone: str | None = None


class SharedItem(_Summary):
    """An item that may leave the hub: a non-sensitive item, or a sensitive one in its released wording.

    `about` is kept only for non-sensitive items: for a released item, even whom it concerns may be part
    of what the agency sealed, so only the permitted wording goes.
    """

    agency: str
    agency_name: str
    item_id: str
    basis: Literal["non_sensitive", "released_by_agency"]
    about: str | None
    wording: str


class WithheldNotice(_Summary):
    """Tells the receiving service that an agency holds sealed information, and how to ask for it."""

    agency: str
    agency_name: str
    request_route: str
    wording: str


class AnalysisStatement(_Summary):
    """One statement of the hub's risk analysis, under its heading (e.g. 'Danger statements')."""

    label: str
    text: str


class AnalysisColumn(_Summary):
    """A column of the Signs of Safety analysis: worried about, working well, needs to happen."""

    heading: str
    statements: list[AnalysisStatement]


class RiskAnalysisSummary(_Summary):
    """The risk analysis the manager sanctioned with the rating, as it may leave the hub."""

    columns: list[AnalysisColumn]
    safety_scale: int
    scale_meaning: str


class ChildsVoiceSummary(_Summary):
    """The child's wishes and feelings and the parents' views, or why they are not known."""

    child: str
    parents: str


class HandoffSummary(_Summary):
    """The summary the receiving service gets: everything here is allowed to leave the hub."""

    referral_id: str
    decision_id: str
    decided_by: str
    decided_at: datetime
    referral_received_at: datetime
    rating: BragRating
    outcome: Outcome
    receiving_service: str
    allocated_worker: AllocatedWorker | None
    subjects: list[SubjectDetails]
    referrer: NamedReferrer | None
    referrer_is_member_of_public: bool
    rationale: str
    concern_categories: list[str]
    concern_in_referrers_words: str | None
    actions_taken: str | None
    shared_items: list[SharedItem]
    withheld_notices: list[WithheldNotice]
    # Why the hub may share at all, and the family's consent position: the receiving service records both.
    lawful_basis: LawfulBasis | None = None
    consent_position: str | None = None
    # The front door's reasoning (issue 23): the sanctioned risk analysis and the child's voice.
    risk_analysis: RiskAnalysisSummary | None = None
    childs_voice: ChildsVoiceSummary | None = None


def _address_line(address: Address | None) -> str | None:
    if address is None:
        return None
    parts = [*address.lines, address.town, address.postcode]
    line = ", ".join(part for part in parts if part)
    return line or None


def _subject_details(subject: Subject) -> SubjectDetails:
    return SubjectDetails(
        name=subject_name(subject),
        kind=subject.kind,
        date_of_birth=subject.date_of_birth,
        expected_date=subject.expected_date,
        estimated_age=subject.estimated_age,
        nhs_number=subject.nhs_number,
        address=_address_line(subject.address),
    )


def _named_referrer(referrer: Referrer) -> NamedReferrer | None:
    # A member of the public's identity never leaves the hub: not even their role or contact details.
    if referrer.is_member_of_public:
        return None
    return NamedReferrer(
        name=referrer.name,
        role=referrer.role,
        organisation=referrer.agency,
        email=referrer.email,
        phone=referrer.phone,
    )


def _released_and_withheld(decision: Decision) -> tuple[list[ReleasedItem], list[WithheldItem]]:
    """What may leave, and what is only referred to: from the decision's own lists, or its legacy whole items."""
    released = list(decision.released_items)
    withheld = list(decision.withheld_items)
    for chosen in decision.handoff_items:
        if is_releasable(chosen.item):
            released.append(ReleasedItem.of(chosen.agency, chosen.item))
        else:
            withheld.append(WithheldItem.of(chosen.agency, chosen.item))
    return released, withheld


def _shared_item(released: ReleasedItem, agency_name: str) -> SharedItem:
    return SharedItem(
        agency=released.agency,
        agency_name=agency_name,
        item_id=released.item_id,
        basis=released.basis,
        # Whom a released item concerns may be part of what the agency sealed: only its wording goes.
        about=released.about if released.basis == "non_sensitive" else None,
        wording=released.wording,
    )


def _withheld_notices(
    decision: Decision, withheld: list[WithheldItem], agency_names: Mapping[str, str]
) -> list[WithheldNotice]:
    # One notice per agency and route: the count of sealed items is itself not for the receiving service.
    notices: dict[tuple[str, str], WithheldNotice] = {}
    whose = subjects_possessive(decision.subjects)
    for reference in withheld:
        key = (reference.agency, reference.request_route)
        if key in notices:
            continue
        name = agency_title(reference.agency, agency_names)
        notices[key] = WithheldNotice(
            agency=reference.agency,
            agency_name=name,
            request_route=reference.request_route,
            wording=(
                f"{name} holds information relevant to {whose} safety. "
                f"To request it: {sentence(reference.request_route)}"
            ),
        )
    return list(notices.values())


def _sensitive_texts(decision: Decision) -> list[tuple[HandoffItem, str]]:
    """The raw text of every sensitive item a legacy decision carried: none of it may leave except as permitted
    wording. (A current decision carries none: the decision service sends no sealed text.)"""
    texts: list[tuple[HandoffItem, str]] = []
    for chosen in decision.handoff_items:
        if chosen.item.sensitivity is Sensitivity.SENSITIVE and len(chosen.item.summary) >= MIN_SEALED_MATCH:
            texts.append((chosen, chosen.item.summary))
    return texts


def _sealed_rationale(decision: Decision, agency_names: Mapping[str, str]) -> str:
    # A manager may quote an agency's sealed text in the rationale; it is cut out here rather than trusted.
    return _without_sealed(decision, agency_names, decision.rationale)


def _without_sealed(decision: Decision, agency_names: Mapping[str, str], words: str) -> str:
    for chosen, text in _sensitive_texts(decision):
        mark = WITHHELD_MARK.format(agency=agency_title(chosen.agency, agency_names))
        words = re.sub(re.escape(text), mark, words, flags=re.IGNORECASE)
    return words


def _analysis(decision: Decision, names: Mapping[str, str], analysis: RiskAnalysis) -> RiskAnalysisSummary:
    """The analysis by column (empty columns left out); the decision service already cut sealed words out,
    and a legacy decision's are cut here too."""
    given = analysis.statements()
    columns = [
        AnalysisColumn(heading=heading, statements=[
            AnalysisStatement(label=label, text=_without_sealed(decision, names, given[name]))
            for name, label in fields if name in given])
        for heading, fields in COLUMNS
    ]
    return RiskAnalysisSummary(columns=[column for column in columns if column.statements],
                               safety_scale=analysis.safety_scale, scale_meaning=SAFETY_SCALE_MEANING)


def _voice(decision: Decision, names: Mapping[str, str], voice: ChildsVoice) -> ChildsVoiceSummary:
    return ChildsVoiceSummary(child=_without_sealed(decision, names, views_line(voice.child)),
                              parents=_without_sealed(decision, names, views_line(voice.parents)))


def _outgoing_texts(summary: HandoffSummary) -> Iterator[tuple[str | None, str]]:
    """Each free text in the summary, with the id of the released item it came from (if any)."""
    yield None, summary.rationale
    for shared in summary.shared_items:
        released_from = shared.item_id if shared.basis == "released_by_agency" else None
        yield released_from, shared.wording
        if shared.about:
            yield None, shared.about
    for notice in summary.withheld_notices:
        yield None, notice.wording
    if summary.risk_analysis is not None:
        for column in summary.risk_analysis.columns:
            for statement in column.statements:
                yield None, statement.text
    if summary.childs_voice is not None:
        yield None, summary.childs_voice.child
        yield None, summary.childs_voice.parents


def _check_nothing_sealed_leaves(decision: Decision, summary: HandoffSummary) -> None:
    # Last line of defence: the same sealed text could also arrive inside another agency's
    # non-sensitive item. An agency's own permitted wording may repeat its own text; nothing else may.
    for chosen, sealed in _sensitive_texts(decision):
        needle = sealed.lower()
        for released_from, text in _outgoing_texts(summary):
            if released_from == chosen.item.item_id:
                continue
            if needle in text.lower():
                raise SealedHubBreachError(chosen.agency, chosen.item.item_id)


def handoff_summary(decision: Decision, agency_names: Mapping[str, str] | None = None) -> HandoffSummary:
    """Build the receiving service's summary of `decision`, letting out only what may leave the hub.

    `agency_names` maps agency ids to display names ('police' -> 'Devon and Cornwall Police').
    Raises SealedHubBreachError rather than send a hand-off that would carry sealed text.
    """
    names = agency_names or {}
    released, withheld = _released_and_withheld(decision)
    shared = [_shared_item(item, agency_title(item.agency, names)) for item in released]
    summary = HandoffSummary(
        referral_id=decision.referral_id,
        decision_id=decision.decision_id,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        referral_received_at=decision.referral_received_at,
        rating=decision.rating,
        outcome=decision.outcome,
        receiving_service=decision.receiving_service,
        allocated_worker=decision.allocated_worker,
        subjects=[_subject_details(subject) for subject in decision.subjects],
        referrer=_named_referrer(decision.referrer),
        referrer_is_member_of_public=decision.referrer.is_member_of_public,
        rationale=_sealed_rationale(decision, names),
        concern_categories=[c.value.replace("_", " ") for c in decision.concern.categories] if decision.concern else [],
        # A member of the public's own words could identify them: the receiving service gets the categories only.
        concern_in_referrers_words=(decision.concern.narrative
                                    if decision.concern and not decision.referrer.is_member_of_public else None),
        actions_taken=(decision.concern.actions_taken
                       if decision.concern and not decision.referrer.is_member_of_public else None),
        shared_items=shared,
        withheld_notices=_withheld_notices(decision, withheld, names),
        lawful_basis=decision.lawful_basis,
        consent_position=_consent_position(decision),
        risk_analysis=_analysis(decision, names, decision.risk_analysis) if decision.risk_analysis else None,
        childs_voice=_voice(decision, names, decision.childs_voice) if decision.childs_voice else None,
    )
    _check_nothing_sealed_leaves(decision, summary)
    return summary


def _consent_position(decision: Decision) -> str | None:
    """The consent position in words: given, or why the hub shares without it (overridden, refused, not sought)."""
    consent = decision.consent
    if consent is None:
        return None
    words = {"given": "Consent given", "refused": "Consent refused", "not_sought": "Consent not sought",
             "overridden": "Consent overridden"}[consent.status.value]
    return f"{words}: {consent.reason}" if consent.reason else words
