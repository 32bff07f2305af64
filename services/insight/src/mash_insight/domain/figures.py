"""The hub's figures, computed from the facts: performance, conversion, timescales, agencies, areas.

Every figure is a count or a time over facts, so the same facts give the same figures whatever order
the events arrived in. docs/insight.md defines each figure as a manager would quote it.

Cohorts: a contact's decision, conversion, timeliness and re-referral count in the group (day, week or
month) the contact was received in; an enquiry counts in the group it was opened in; a consultation,
a police notification and a clock alert in the group they happened in.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mash_runtime.timescales import Deadline, Timescales
from mash_schemas.common import BragRating
from pydantic import BaseModel, Field

from mash_insight.domain.facts import (
    AlertFact,
    ConsultationFact,
    ContactFact,
    DecisionFact,
    EnquiryFact,
    EnquiryOutcomeFact,
    Fact,
    LateAnswerFact,
    PoliceNoticeFact,
    TransferOutFact,
)
from mash_insight.domain.periods import Grouping, Period

TO_SOCIAL_CARE = frozenset({"child_protection", "statutory_assessment", "allocated_worker"})
TO_EARLY_HELP = frozenset({"early_help", "targeted_family_support"})
RE_REFERRAL_WINDOW = timedelta(days=365)
RATINGS = ("red", "amber", "green", "blue")


@dataclass
class Facts:
    """Every fact insight holds, by kind."""

    contacts: list[ContactFact] = field(default_factory=list)
    decisions: list[DecisionFact] = field(default_factory=list)
    enquiries: list[EnquiryFact] = field(default_factory=list)
    outcomes: list[EnquiryOutcomeFact] = field(default_factory=list)
    late_answers: list[LateAnswerFact] = field(default_factory=list)
    alerts: list[AlertFact] = field(default_factory=list)
    consultations: list[ConsultationFact] = field(default_factory=list)
    police_notices: list[PoliceNoticeFact] = field(default_factory=list)
    transfers_out: list[TransferOutFact] = field(default_factory=list)

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> Facts:
        """Sort a mixed collection of facts by kind."""
        found = cls()
        for fact in facts:
            match fact:
                case ContactFact():
                    found.contacts.append(fact)
                case DecisionFact():
                    found.decisions.append(fact)
                case EnquiryFact():
                    found.enquiries.append(fact)
                case EnquiryOutcomeFact():
                    found.outcomes.append(fact)
                case LateAnswerFact():
                    found.late_answers.append(fact)
                case AlertFact():
                    found.alerts.append(fact)
                case TransferOutFact():
                    found.transfers_out.append(fact)
                case ConsultationFact():
                    found.consultations.append(fact)
                case PoliceNoticeFact():
                    found.police_notices.append(fact)
                case _:
                    raise TypeError(f"not a fact: {type(fact).__name__}")
        return found


# ------------------------------------------------------------------ shared arithmetic


def percent(count: int, of: int) -> float | None:
    """count as a percentage of `of`, to one decimal place; None when there is nothing to divide by."""
    return round(100.0 * count / of, 1) if of else None


def median(values: list[float]) -> float | None:
    """The median, to two decimal places; None for no values."""
    return round(statistics.median(values), 2) if values else None


def percentile_90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank (the smallest value at or above 90% of them); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 2)


def hours(duration: timedelta) -> float:
    """A duration in hours."""
    return duration.total_seconds() / 3600.0


def _rating(value: str) -> BragRating | None:
    try:
        return BragRating(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Timing:
    """How one decision stood against its timescales."""

    deadline: Deadline | None
    working_hours: float
    rating_clock_hours: float
    within_target: bool
    within_one_working_day: bool


def timing(decision: DecisionFact, timescales: Timescales) -> Timing:
    """The decision against the desk's own rules: its due time (the rating's target or one working day,
    whichever is earlier), the statutory one working day, and the time taken on each clock."""
    working = timescales.working
    one_day = working.one_working_day_after(decision.received_at)
    worked = max(timedelta(0), working.working_time_between(working.clock_start(decision.received_at),
                                                             decision.decided_at))
    rating = _rating(decision.rating)
    if rating is None:
        return Timing(None, hours(worked), hours(worked), decision.decided_at <= one_day,
                      decision.decided_at <= one_day)
    deadline = timescales.decision_deadline(rating, decision.received_at)
    clock = timescales.clock(deadline.clock)
    on_clock = max(timedelta(0), clock.working_time_between(deadline.clock_started_at, decision.decided_at))
    return Timing(deadline, hours(worked), hours(on_clock), decision.decided_at <= deadline.due_at,
                  decision.decided_at <= one_day)


def re_referrals(contacts: list[ContactFact]) -> set[str]:
    """Referral ids of contacts about a person (matched reference) who was the subject of another contact
    received in the 12 months (365 days) before."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for contact in contacts:
        for ref in contact.person_refs:
            times[ref].append(contact.received_at)
    for moments in times.values():
        moments.sort()
    found: set[str] = set()
    for contact in contacts:
        since = contact.received_at - RE_REFERRAL_WINDOW
        for ref in contact.person_refs:
            moments = times[ref]
            first_after = bisect.bisect_left(moments, since)
            if first_after < len(moments) and moments[first_after] < contact.received_at:
                found.add(contact.referral_id)
                break
    return found


# ------------------------------------------------------------------ performance


class DecisionTimes(BaseModel):
    """Contact to decision, for the contacts decided."""

    decided: int
    median_working_hours: float | None
    p90_working_hours: float | None
    within_one_working_day: int
    within_one_working_day_percent: float | None
    within_target: int
    within_target_percent: float | None
    late: int


class GroupFigures(BaseModel):
    """The hub's figures for one day, week or month (or the whole period)."""

    label: str
    contacts: int
    by_source: dict[str, int]
    decided: int
    outcomes: dict[str, int]
    to_social_care: int
    to_social_care_percent: float | None
    to_early_help: int
    to_early_help_percent: float | None
    decision_times: DecisionTimes
    re_referrals: int
    re_referral_percent: float | None
    clock_breaches: int
    consultations: int
    consultations_leading_to_contact: int
    police_notifications: int
    police_referrals: int


class RatingFigures(BaseModel):
    """Contact to decision for one rating (the manager's rating at decision), on the rating's own clock."""

    rating: str
    target: str
    clock: str
    decided: int
    median_hours: float | None
    p90_hours: float | None
    within_target: int
    within_target_percent: float | None
    within_one_working_day: int
    late: int
    clock_breaches: int


class SourceFigures(BaseModel):
    """Contacts from one sector and what became of them."""

    sector: str
    contacts: int
    decided: int
    to_social_care: int
    to_social_care_percent: float | None
    to_early_help: int
    to_early_help_percent: float | None
    re_referrals: int


class PerformanceReport(BaseModel):
    """The hub's performance over a period, grouped by day, week or month, by rating and by source."""

    first: str
    last: str
    grouping: str
    groups: list[GroupFigures]
    total: GroupFigures
    by_rating: list[RatingFigures]
    by_source: list[SourceFigures]
    undecided: int
    open_in_breach: int


def _decision_times(decisions: list[DecisionFact], timings: dict[str, Timing]) -> DecisionTimes:
    chosen = [timings[d.referral_id] for d in decisions]
    within_day = sum(t.within_one_working_day for t in chosen)
    within_target = sum(t.within_target for t in chosen)
    return DecisionTimes(
        decided=len(chosen),
        median_working_hours=median([t.working_hours for t in chosen]),
        p90_working_hours=percentile_90([t.working_hours for t in chosen]),
        within_one_working_day=within_day,
        within_one_working_day_percent=percent(within_day, len(chosen)),
        within_target=within_target,
        within_target_percent=percent(within_target, len(chosen)),
        late=len(chosen) - within_target,
    )


def _group(label: str, contacts: list[ContactFact], decisions: dict[str, DecisionFact], timings: dict[str, Timing],
           again: set[str], breaches: list[AlertFact], consultations: list[ConsultationFact],
           notices: list[PoliceNoticeFact]) -> GroupFigures:
    decided = [decisions[c.referral_id] for c in contacts if c.referral_id in decisions]
    outcomes = Counter(d.outcome for d in decided)
    social_care = sum(n for outcome, n in outcomes.items() if outcome in TO_SOCIAL_CARE)
    early_help = sum(n for outcome, n in outcomes.items() if outcome in TO_EARLY_HELP)
    repeated = sum(c.referral_id in again for c in contacts)
    return GroupFigures(
        label=label,
        contacts=len(contacts),
        by_source=dict(sorted(Counter(c.sector for c in contacts).items())),
        decided=len(decided),
        outcomes=dict(sorted(outcomes.items())),
        to_social_care=social_care,
        to_social_care_percent=percent(social_care, len(decided)),
        to_early_help=early_help,
        to_early_help_percent=percent(early_help, len(decided)),
        decision_times=_decision_times(decided, timings),
        re_referrals=repeated,
        re_referral_percent=percent(repeated, len(contacts)),
        clock_breaches=len({a.referral_id for a in breaches}),
        consultations=len(consultations),
        consultations_leading_to_contact=sum(c.led_to_contact for c in consultations),
        police_notifications=len(notices),
        police_referrals=sum(c.source == "police_notification" for c in contacts),
    )


def performance(facts: Facts, period: Period, grouping: Grouping, timescales: Timescales) -> PerformanceReport:
    """The hub's performance over `period`, grouped by `grouping`."""
    contacts = [c for c in facts.contacts if period.contains(c.received_at)]
    decisions = {d.referral_id: d for d in facts.decisions}
    timings = {c.referral_id: timing(decisions[c.referral_id], timescales)
               for c in contacts if c.referral_id in decisions}
    again = re_referrals(facts.contacts)
    breaches = [a for a in facts.alerts if a.status == "breached" and period.contains(a.raised_at)]
    consultations = [c for c in facts.consultations if period.contains(c.recorded_at)]
    notices = [n for n in facts.police_notices if period.contains(n.sent_at)]

    def in_group(label: str) -> GroupFigures:
        return _group(
            label,
            [c for c in contacts if period.label(c.received_at, grouping) == label],
            decisions, timings, again,
            [a for a in breaches if period.label(a.raised_at, grouping) == label],
            [c for c in consultations if period.label(c.recorded_at, grouping) == label],
            [n for n in notices if period.label(n.sent_at, grouping) == label],
        )

    total = _group("total", contacts, decisions, timings, again, breaches, consultations, notices)
    breached_referrals = {a.referral_id for a in facts.alerts if a.status == "breached"}
    return PerformanceReport(
        first=period.first.isoformat(),
        last=period.last.isoformat(),
        grouping=grouping.value,
        groups=[in_group(label) for label in period.labels(grouping)],
        total=total,
        by_rating=_by_rating(contacts, decisions, timings, breaches, timescales),
        by_source=_by_source(contacts, decisions, again),
        undecided=sum(c.referral_id not in decisions for c in contacts),
        open_in_breach=sum(c.referral_id not in decisions and c.referral_id in breached_referrals for c in contacts),
    )


def _by_rating(contacts: list[ContactFact], decisions: dict[str, DecisionFact], timings: dict[str, Timing],
               breaches: list[AlertFact], timescales: Timescales) -> list[RatingFigures]:
    rows = []
    decided = [decisions[c.referral_id] for c in contacts if c.referral_id in decisions]
    for rating in RATINGS:
        chosen = [timings[d.referral_id] for d in decided if d.rating == rating]
        target = timescales.config.decision_targets.get(BragRating(rating))
        within = sum(t.within_target for t in chosen)
        rows.append(RatingFigures(
            rating=rating,
            target=(f"{target.describe()}, or one working day if sooner" if target is not None
                    else "one working day"),
            clock=timescales.rating_clock(BragRating(rating)).value,
            decided=len(chosen),
            median_hours=median([t.rating_clock_hours for t in chosen]),
            p90_hours=percentile_90([t.rating_clock_hours for t in chosen]),
            within_target=within,
            within_target_percent=percent(within, len(chosen)),
            within_one_working_day=sum(t.within_one_working_day for t in chosen),
            late=len(chosen) - within,
            clock_breaches=len({a.referral_id for a in breaches if a.rating == rating}),
        ))
    return rows


def _by_source(contacts: list[ContactFact], decisions: dict[str, DecisionFact], again: set[str]) -> list[SourceFigures]:
    rows = []
    for sector in sorted({c.sector for c in contacts}):
        mine = [c for c in contacts if c.sector == sector]
        decided = [decisions[c.referral_id] for c in mine if c.referral_id in decisions]
        social_care = sum(d.outcome in TO_SOCIAL_CARE for d in decided)
        early_help = sum(d.outcome in TO_EARLY_HELP for d in decided)
        rows.append(SourceFigures(
            sector=sector, contacts=len(mine), decided=len(decided),
            to_social_care=social_care, to_social_care_percent=percent(social_care, len(decided)),
            to_early_help=early_help, to_early_help_percent=percent(early_help, len(decided)),
            re_referrals=sum(c.referral_id in again for c in mine),
        ))
    return sorted(rows, key=lambda row: (-row.contacts, row.sector))


# ------------------------------------------------------------------ agencies


class AgencyFigures(BaseModel):
    """One partner agency's answers to the enquiries opened in the period."""

    agency: str
    asked: int
    answered_in_time: int
    answered_late: int
    silent: int
    awaiting: int
    late_or_silent_percent: float | None
    median_response_working_hours: float | None
    p90_response_working_hours: float | None


class AgencyReport(BaseModel):
    """Enquiries opened in the period, and how each agency answered."""

    first: str
    last: str
    enquiries_opened: int
    completed_all_answered: int
    completed_due_time_passed: int
    awaiting_completion: int
    agencies: list[AgencyFigures]


def agencies(facts: Facts, period: Period, timescales: Timescales) -> AgencyReport:
    """How each agency answered the enquiries opened in `period`."""
    opened = [e for e in facts.enquiries if period.contains(e.opened_at)]
    outcomes = {o.enquiry_id: o for o in facts.outcomes}
    late = {(a.enquiry_id, a.answer.agency): a.answer for a in facts.late_answers}
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    for enquiry in opened:
        outcome = outcomes.get(enquiry.enquiry_id)
        answers = {a.agency: a for a in outcome.answers} if outcome else {}
        for agency in enquiry.agencies:
            tally = tallies[agency]
            tally["asked"] += 1
            answer = answers.get(agency) or late.get((enquiry.enquiry_id, agency))
            if answer is not None:
                tally["in_time" if answer.responded_at <= enquiry.due_at and agency in answers else "late"] += 1
                taken = timescales.working.working_time_between(enquiry.opened_at, answer.responded_at)
                times[agency].append(hours(max(timedelta(0), taken)))
            elif outcome is not None:
                tally["silent"] += 1
            else:
                tally["awaiting"] += 1
    rows = [
        AgencyFigures(
            agency=agency, asked=t["asked"], answered_in_time=t["in_time"], answered_late=t["late"],
            silent=t["silent"], awaiting=t["awaiting"],
            late_or_silent_percent=percent(t["late"] + t["silent"], t["asked"] - t["awaiting"]),
            median_response_working_hours=median(times[agency]),
            p90_response_working_hours=percentile_90(times[agency]),
        )
        for agency, t in sorted(tallies.items())
    ]
    done = [outcomes[e.enquiry_id] for e in opened if e.enquiry_id in outcomes]
    return AgencyReport(
        first=period.first.isoformat(), last=period.last.isoformat(), enquiries_opened=len(opened),
        completed_all_answered=sum(o.completion == "all_answered" for o in done),
        completed_due_time_passed=sum(o.completion == "due_time_passed" for o in done),
        awaiting_completion=len(opened) - len(done), agencies=rows,
    )


# ------------------------------------------------------------------ areas


class AreaFigures(BaseModel):
    """Contacts about children living in one postcode district, and what became of them."""

    district: str
    contacts: int
    by_group: dict[str, int]
    decided: int
    outcomes: dict[str, int]
    to_social_care: int
    to_early_help: int
    re_referrals: int


class AreaReport(BaseModel):
    """Contacts and outcomes by postcode district over the period."""

    first: str
    last: str
    grouping: str
    labels: list[str]
    areas: list[AreaFigures]
    without_district: int


def areas(facts: Facts, period: Period, grouping: Grouping) -> AreaReport:
    """Contacts and outcomes by postcode district; districts with the most contacts first."""
    contacts = [c for c in facts.contacts if period.contains(c.received_at)]
    decisions = {d.referral_id: d for d in facts.decisions}
    again = re_referrals(facts.contacts)
    labels = period.labels(grouping)
    rows = []
    for district in sorted({c.district for c in contacts if c.district}):
        mine = [c for c in contacts if c.district == district]
        counts = Counter(period.label(c.received_at, grouping) for c in mine)
        decided = [decisions[c.referral_id] for c in mine if c.referral_id in decisions]
        outcomes = Counter(d.outcome for d in decided)
        rows.append(AreaFigures(
            district=district, contacts=len(mine), by_group={label: counts.get(label, 0) for label in labels},
            decided=len(decided), outcomes=dict(sorted(outcomes.items())),
            to_social_care=sum(n for o, n in outcomes.items() if o in TO_SOCIAL_CARE),
            to_early_help=sum(n for o, n in outcomes.items() if o in TO_EARLY_HELP),
            re_referrals=sum(c.referral_id in again for c in mine),
        ))
    return AreaReport(
        first=period.first.isoformat(), last=period.last.isoformat(), grouping=grouping.value, labels=labels,
        areas=sorted(rows, key=lambda row: (-row.contacts, row.district)),
        without_district=sum(c.district is None for c in contacts),
    )


# ------------------------------------------------------------------ consultations


class ConsultationReport(BaseModel):
    """Advice the hub gave without a referral, over the period."""

    first: str
    last: str
    consultations: int
    led_to_contact: int
    led_to_contact_percent: float | None
    by_sector: dict[str, int]
    by_category: dict[str, int]


def consultations(facts: Facts, period: Period) -> ConsultationReport:
    """Consultations recorded in `period`."""
    chosen = [c for c in facts.consultations if period.contains(c.recorded_at)]
    led = sum(c.led_to_contact for c in chosen)
    return ConsultationReport(
        first=period.first.isoformat(), last=period.last.isoformat(), consultations=len(chosen),
        led_to_contact=led, led_to_contact_percent=percent(led, len(chosen)),
        by_sector=dict(sorted(Counter(c.sector for c in chosen).items())),
        by_category=dict(sorted(Counter(cat for c in chosen for cat in c.categories).items())),
    )


NEIGHBOUR_PREFIX = "hub-"  # a neighbouring hub's agency id as a virtual member (mash_runtime.region)


class FederationReport(BaseModel):
    """Across council boundaries (issue 20), over the period: transfers in and out by hub, and enquiries that
    asked a neighbouring hub."""

    first: str
    last: str
    transfers_in: dict[str, int] = Field(description="Contacts received by transfer, by sending hub.")
    transfers_out: dict[str, int] = Field(description="Contacts transferred away, by receiving hub.")
    cross_hub_enquiries: int = Field(description="Enquiries that asked at least one neighbouring hub.")
    hubs_asked: dict[str, int] = Field(description="Enquiries asking each neighbouring hub, by hub id.")


def federation(facts: Facts, period: Period) -> FederationReport:
    """Transfers in (contacts received in `period` with a sending hub), out (transferred in `period`), and
    enquiries opened in `period` that asked a neighbouring hub."""
    transfers_in = Counter(c.transferred_from for c in facts.contacts
                           if c.transferred_from is not None and period.contains(c.received_at))
    transfers_out = Counter(t.to_hub for t in facts.transfers_out if period.contains(t.transferred_at))
    asking = [e for e in facts.enquiries if period.contains(e.opened_at)
              and any(a.startswith(NEIGHBOUR_PREFIX) for a in e.agencies)]
    asked = Counter(a.removeprefix(NEIGHBOUR_PREFIX) for e in asking for a in e.agencies
                    if a.startswith(NEIGHBOUR_PREFIX))
    return FederationReport(first=period.first.isoformat(), last=period.last.isoformat(),
                            transfers_in=dict(sorted(transfers_in.items())),
                            transfers_out=dict(sorted(transfers_out.items())),
                            cross_hub_enquiries=len(asking), hubs_asked=dict(sorted(asked.items())))
