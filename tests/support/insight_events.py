"""The hub's events as the real producers shape them (the contract's strict models), for insight's tests:
single events, and a generated month of contacts with decisions, enquiries, late and silent agencies,
clock alerts, consultations and police notifications.

Every free-text field carries MARKER, and every sealed or sensitive item SEALED_MARKER, so a test can
search insight's database for them: neither may ever be found there.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mash_schemas import (
    Address,
    AgencyFindings,
    BragRating,
    Concern,
    ConcernCategory,
    Consent,
    ConsentStatus,
    Consultation,
    ConsultationAsker,
    ConsultationRecorded,
    Decision,
    DecisionMade,
    Enquiry,
    EnquiryAddendum,
    EnquiryAddendumRecorded,
    EnquiryCompleted,
    EnquiryOpened,
    EnquiryOutcome,
    EventEnvelope,
    HandoffItem,
    HouseholdMember,
    InformationItem,
    Outcome,
    PoliceNotification,
    PoliceNotificationReceived,
    Referral,
    ReferralReceived,
    Referrer,
    ReferrerSector,
    ReleaseCondition,
    SealedItem,
    Sensitivity,
    Subject,
    SubjectMatch,
    SuggestedRating,
    TimescaleAlert,
    TimescaleAlertRaised,
)
from mash_schemas.practice import RiskAnalysis
from mash_schemas.topics import (
    CONSULTATION_RECORDED,
    DECISION_MADE,
    ENQUIRY_ADDENDUM,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    POLICE_NOTIFICATION,
    REFERRAL_RECEIVED,
    TIMESCALE_ALERT,
)

LONDON = ZoneInfo("Europe/London")
MARKER = "ZQXMARKERFREETEXT"
SEALED_MARKER = "ZQXMARKERSEALED"
OUTCOME_OF_RATING = {
    "red": ["child_protection"],
    "amber": ["statutory_assessment", "statutory_assessment", "allocated_worker"],
    "green": ["early_help", "early_help", "targeted_family_support", "universal_services"],
    "blue": ["universal_services", "no_further_action", "no_further_action"],
}
SERVICE_OF_OUTCOME = {
    "child_protection": "assessment-team", "statutory_assessment": "assessment-team",
    "allocated_worker": "allocated-worker", "early_help": "early-help",
    "targeted_family_support": "targeted-family-support", "universal_services": "universal-services",
    "no_further_action": "information-only",
}
DISTRICTS = ["EX1 2AB", "EX2 4CD", "EX4 6EF", "EX39 1GH", "PL1 3JK", "TQ1 5LM", "EX16 7NP"]
AGENCIES = ["police", "health", "education", "housing", "probation"]


def london(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in London."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def _id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def referral_event(
    referral_id: str, received_at: datetime, *, rating: str = "green", person_refs: tuple[str, ...] = (),
    postcode: str | None = "EX4 6EF", sector: str | None = "education", source: str = "web_form",
    categories: tuple[str, ...] = ("neglect",), event_id: uuid.UUID | None = None,
) -> ReferralReceived:
    """referral.received about one child per person reference (or one unmatched child)."""
    address = Address(lines=[f"1 {MARKER} Street"], town="Exeter", postcode=postcode) if postcode else None
    subjects = [Subject(subject_id=f"s{i}", given_name=f"Kai{MARKER}", family_name=f"Turner{MARKER}",
                        date_of_birth=date(2018, 5, 1), address=address)
                for i in range(max(1, len(person_refs)))]
    referrer = Referrer(role="designated safeguarding lead", agency=f"Hilltop {MARKER} School",
                        name=f"Sam {MARKER}", sector=ReferrerSector(sector) if sector else None,
                        is_member_of_public=sector == "public")
    payload = Referral(
        referral_id=referral_id, source=source, received_at=received_at,  # type: ignore[arg-type]
        referrer=referrer, subjects=subjects,
        household=[HouseholdMember(given_name="Jo", family_name=f"Turner{MARKER}", relationship="mother")],
        concern=Concern(categories=[ConcernCategory(c) for c in categories], narrative=f"{MARKER} narrative",
                        actions_taken=f"{MARKER} actions"),
        consent=Consent(status=ConsentStatus.GIVEN, recorded_by=f"Sam {MARKER}"),
        suggested_rating=SuggestedRating(rating=BragRating(rating), reasons=[f"{MARKER} reason"]),
        matches=[SubjectMatch(subject_id=f"s{i}", person_ref=ref, confidence=0.95, reasons=[f"{MARKER} match"])
                 for i, ref in enumerate(person_refs)],
    )
    return ReferralReceived.build(payload, correlation_id=referral_id, producer="intake", event_id=event_id,
                                  occurred_at=received_at)


def _sensitive_item(item_id: str) -> InformationItem:
    return InformationItem(item_id=item_id, about=f"father {SEALED_MARKER}", summary=f"{SEALED_MARKER} intelligence",
                           sensitivity=Sensitivity.SENSITIVE,
                           release=ReleaseCondition(permitted=False, request_route=f"{SEALED_MARKER} route"))


@dataclass(frozen=True)
class Practice:
    """What a decision.made says of the ratings on the way (issue 23), and the sanctioned safety scale."""

    suggested: str | None = None
    screened: str | None = None
    screened_by: str | None = None
    screening_rationale: bool | None = None
    change_rationale: bool | None = None
    safety_scale: int | None = None
    decided_by: str = "manager-1"


def decision_event(
    referral_id: str, received_at: datetime, decided_at: datetime, *, rating: str = "green",
    outcome: str = "early_help", event_id: uuid.UUID | None = None, agencies: tuple[str, ...] = (),
    practice: Practice = Practice(),
) -> DecisionMade:
    """decision.made, with a sensitive hand-off item the manager chose (as decision.made may carry), and the
    analysis's statements in free text (MARKER) beside its safety scale."""
    analysis = (RiskAnalysis(harm=f"{MARKER} harm", danger_statements=f"{MARKER} danger",
                             safety_scale=practice.safety_scale) if practice.safety_scale is not None else None)
    payload = Decision(
        decision_id=f"D-{referral_id}", referral_id=referral_id, decided_by=practice.decided_by,
        decided_at=decided_at, risk_analysis=analysis,
        suggested_rating=BragRating(practice.suggested) if practice.suggested else None,
        screened_rating=BragRating(practice.screened) if practice.screened else None,
        screened_by=practice.screened_by, screening_rationale_recorded=practice.screening_rationale,
        rating_change_rationale_recorded=practice.change_rationale,
        referral_received_at=received_at, rating=BragRating(rating), outcome=Outcome(outcome),
        receiving_service=SERVICE_OF_OUTCOME[outcome], rationale=f"{MARKER} rationale",
        referrer=Referrer(role="teacher", name=f"Sam {MARKER}", sector=ReferrerSector.EDUCATION),
        subjects=[Subject(subject_id="s0", given_name=f"Kai{MARKER}", family_name=f"Turner{MARKER}")],
        concern=Concern(categories=[ConcernCategory.NEGLECT], narrative=f"{MARKER} narrative"),
        handoff_items=[HandoffItem(agency="police", item=_sensitive_item("p-1"))],
        agencies_consulted=list(agencies), route="enquiry" if agencies else "screening",
    )
    return DecisionMade.build(payload, correlation_id=referral_id, producer="decision", event_id=event_id,
                              occurred_at=decided_at)


def enquiry_opened_event(referral_id: str, enquiry_id: str, opened_at: datetime, due_at: datetime,
                         agencies: list[str], rating: str = "amber") -> EnquiryOpened:
    """enquiry.opened."""
    payload = Enquiry(
        enquiry_id=enquiry_id, referral_id=referral_id, rating=BragRating(rating), agencies=agencies, due_at=due_at,
        subjects=[Subject(subject_id="s0", given_name=f"Kai{MARKER}", family_name=f"Turner{MARKER}")],
        questions=[f"{MARKER} question"], consent=Consent(status=ConsentStatus.GIVEN, recorded_by="manager-1"),
        lawful_basis="Children Act 1989 s17 with consent", opened_by="manager-1",
    )
    return EnquiryOpened.build(payload, correlation_id=referral_id, producer="decision", occurred_at=opened_at)


def _findings(agency: str, at: datetime, held: bool) -> AgencyFindings:
    items = [InformationItem(item_id=f"{agency}-1", about="mother", summary=f"{MARKER} finding",
                             sensitivity=Sensitivity.NON_SENSITIVE)] if held else []
    return AgencyFindings(agency=agency, outcome="information_held" if held else "nothing_known",
                          rating=BragRating.GREEN if held else None, responded_at=at, items=items)


def enquiry_completed_event(referral_id: str, enquiry_id: str, completed_at: datetime,
                            answered: dict[str, datetime], not_answered: list[str]) -> EnquiryCompleted:
    """enquiry.completed, with a sealed item in clear (as the hub-internal topic carries it)."""
    payload = EnquiryOutcome(
        enquiry_id=enquiry_id, referral_id=referral_id, completed_at=completed_at,
        completion="due_time_passed" if not_answered else "all_answered",
        findings=[_findings(agency, at, i % 2 == 0) for i, (agency, at) in enumerate(sorted(answered.items()))],
        sealed=[SealedItem(agency="police", item=_sensitive_item("p-2"))], not_answered=not_answered,
    )
    return EnquiryCompleted.build(payload, correlation_id=referral_id, producer="enquiry", occurred_at=completed_at)


def addendum_event(referral_id: str, enquiry_id: str, agency: str, at: datetime) -> EnquiryAddendumRecorded:
    """enquiry.addendum: an agency's late answer."""
    payload = EnquiryAddendum(enquiry_id=enquiry_id, referral_id=referral_id, findings=_findings(agency, at, True),
                              sealed=[SealedItem(agency=agency, item=_sensitive_item(f"{agency}-s"))])
    return EnquiryAddendumRecorded.build(payload, correlation_id=referral_id, producer="enquiry", occurred_at=at)


def alert_event(referral_id: str, rating: str, due_at: datetime, raised_at: datetime,
                status: str = "breached") -> TimescaleAlertRaised:
    """case.timescale."""
    payload = TimescaleAlert(referral_id=referral_id, rating=BragRating(rating), target="one working day from referral",
                             due_at=due_at, status=status, working_minutes_left=-1)  # type: ignore[arg-type]
    return TimescaleAlertRaised.build(payload, correlation_id=referral_id, producer="decision", occurred_at=raised_at)


def consultation_event(consultation_id: str, at: datetime, sector: str = "health", led: bool = False,
                       referral_id: str | None = None) -> ConsultationRecorded:
    """consultation.recorded."""
    payload = Consultation(
        consultation_id=consultation_id, recorded_at=at, recorded_by="screener-1",
        asked_by=ConsultationAsker(name=f"Dr {MARKER}", role="GP", organisation=f"{MARKER} Surgery",
                                   sector=ReferrerSector(sector)),
        categories=[ConcernCategory.EMOTIONAL_WELLBEING], question=f"{MARKER} question", advice=f"{MARKER} advice",
        led_to_contact=led, referral_id=referral_id if led else None,
    )
    return ConsultationRecorded.build(payload, correlation_id=consultation_id, producer="intake", occurred_at=at)


def police_event(notification_id: str, at: datetime) -> PoliceNotificationReceived:
    """police.notification."""
    payload = PoliceNotification(
        notification_id=notification_id, force="Devon and Cornwall Police", notification_type="domestic_abuse",
        incident_at=at - timedelta(hours=3), reporting_officer=f"PC {MARKER}", dash_risk="standard",
        subjects=[Subject(subject_id="s0", given_name=f"Kai{MARKER}", family_name=f"Turner{MARKER}")],
        narrative=f"{MARKER} police narrative",
    )
    return PoliceNotificationReceived.build(payload, correlation_id=notification_id, producer="police-feed",
                                            occurred_at=at)


# ------------------------------------------------------------------ a generated month


@dataclass
class Stream:
    """Events in the order producers would have published them, with the topic each goes on."""

    events: list[tuple[str, EventEnvelope[Any]]] = field(default_factory=list)

    def add(self, topic: str, event: EventEnvelope[Any]) -> None:
        self.events.append((topic, event))

    def on(self, topic: str) -> list[dict[str, Any]]:
        """The raw JSON of every event on `topic`, as a consumer would read it."""
        import json

        return [json.loads(event.model_dump_json()) for t, event in self.events if t == topic]


def generate_month(first: date, days: int = 30, seed: int = 20260401) -> Stream:
    """A month of contacts (about 15-30 a working day, fewer at weekends) and all that follows them."""
    rng = random.Random(seed)
    # The practice's side (issue 23) draws from its own generator, so the rest of the month is as it was.
    practice = random.Random(seed + 23)
    stream = Stream()
    children = [f"LA-{n:04d}" for n in range(120)]
    siblings = {children[n]: children[n + 1] for n in range(0, 20, 2)}
    sectors = ["education", "health", "police", "public", "early_years", "housing", "voluntary"]
    ratings = ["blue"] * 3 + ["green"] * 4 + ["amber"] * 2 + ["red"]
    number = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(3, 8) if weekend else rng.randint(15, 30)):
            number += 1
            referral_id = f"MASH-{number:05d}"
            received_at = london(day, rng.choice(range(0, 24)) if weekend or rng.random() < 0.15
                                 else rng.randint(8, 17), rng.randint(0, 59)).astimezone(UTC)
            sector = rng.choice(sectors)
            source = "police_notification" if sector == "police" and rng.random() < 0.6 else rng.choice(
                ["web_form", "api"])
            refs: tuple[str, ...] = ()
            if rng.random() < 0.7:
                child = rng.choice(children)
                refs = tuple(sorted({child, siblings[child]})) if child in siblings and rng.random() < 0.5 \
                    else (child,)
            rating = rng.choice(ratings)
            stream.add(REFERRAL_RECEIVED, referral_event(
                referral_id, received_at, rating=rating, person_refs=refs,
                postcode=rng.choice(DISTRICTS) if rng.random() < 0.95 else None,
                sector=sector if rng.random() < 0.9 else None, source=source,
                categories=tuple(sorted(set(rng.sample(["neglect", "domestic_abuse", "emotional_wellbeing",
                                                        "physical_abuse", "missing"], rng.randint(1, 2))))),
                event_id=_id(rng)))
            if source == "police_notification":
                stream.add(POLICE_NOTIFICATION, police_event(f"PN-{number:05d}", received_at - timedelta(minutes=5)))
            decided = rng.random() < 0.92
            final = rating if rng.random() < 0.8 else rng.choice(ratings)
            due = received_at + timedelta(hours=8)
            agencies: list[str] = []
            if decided and rng.random() < 0.35:
                enquiry_id = f"E-{referral_id}"
                opened_at = received_at + timedelta(minutes=rng.randint(20, 200))
                due = opened_at + timedelta(hours=rng.choice([2, 8, 16]))
                agencies = sorted(rng.sample(AGENCIES, rng.randint(2, 4)))
                stream.add(ENQUIRY_OPENED, enquiry_opened_event(referral_id, enquiry_id, opened_at, due, agencies,
                                                                rating=final))
                answered: dict[str, datetime] = {}
                silent: list[str] = []
                for agency in agencies:
                    at = opened_at + timedelta(minutes=rng.randint(10, 1500))
                    (answered.__setitem__(agency, at) if at <= due else silent.append(agency))
                completed_at = due if silent else max(answered.values())
                stream.add(ENQUIRY_COMPLETED, enquiry_completed_event(referral_id, enquiry_id, completed_at,
                                                                      answered, silent))
                for agency in silent:
                    if rng.random() < 0.5:
                        stream.add(ENQUIRY_ADDENDUM, addendum_event(
                            referral_id, enquiry_id, agency, due + timedelta(minutes=rng.randint(5, 2000))))
            if decided:
                decided_at = received_at + timedelta(minutes=rng.randint(30, 60 * 60))
                outcome = rng.choice(OUTCOME_OF_RATING[final])
                stream.add(DECISION_MADE, decision_event(referral_id, received_at, decided_at, rating=final,
                                                         outcome=outcome, event_id=_id(rng), agencies=tuple(agencies),
                                                         practice=_practice(practice, rating, final, outcome)))
            if rng.random() < 0.1:
                stream.add(TIMESCALE_ALERT, alert_event(referral_id, final, due, due + timedelta(minutes=1)))
        for n in range(rng.randint(0, 4)):
            at = london(day, rng.randint(9, 16), rng.randint(0, 59))
            led = rng.random() < 0.3
            stream.add(CONSULTATION_RECORDED, consultation_event(
                f"CONS-{day.isoformat()}-{n}", at, rng.choice(sectors), led, f"MASH-{number:05d}" if led else None))
        for n in range(rng.randint(0, 6)):
            stream.add(POLICE_NOTIFICATION, police_event(f"PK-{day.isoformat()}-{n}", london(day, rng.randint(0, 23))))
    return stream


SCREENERS = [f"screener-{n}" for n in range(1, 7)]
MANAGERS = [f"manager-{n}" for n in range(1, 4)]


def _practice(rng: random.Random, suggested: str, decided: str, outcome: str) -> Practice:
    """The ratings on the way to `decided`: most screeners confirm intake's rating, most managers the screener's;
    a change usually has its rationale. A few decisions were made before decision.made carried any of it, and a
    contact passed straight to its allocated worker was never screened."""
    manager = rng.choice(MANAGERS)
    scale = rng.randint(0, 10) if rng.random() < 0.7 else None
    if rng.random() < 0.05:
        return Practice(decided_by=manager, safety_scale=scale)
    if outcome == "allocated_worker" and rng.random() < 0.5:
        return Practice(suggested=suggested, decided_by=manager, safety_scale=scale)
    ratings = ["blue", "green", "amber", "red"]
    screened = decided if rng.random() < 0.75 else rng.choice(ratings)
    return Practice(
        suggested=suggested, screened=screened, screened_by=rng.choice(SCREENERS),
        screening_rationale=rng.random() < (0.9 if screened != suggested else 0.3),
        change_rationale=(rng.random() < 0.9) if screened != decided else None,
        safety_scale=scale, decided_by=manager,
    )
