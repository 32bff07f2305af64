"""The enquiry record: one enquiry's requests, agencies' answers, reminders and completion.

It is the aggregate the research desk keeps per enquiry (stored as one document by mash_enquiry.store,
sensitive items sealed there). The rules:
an agency's first answer counts and a repeat is ignored; an answer after completion is kept as an
addendum, never dropped; agencies that have not answered are chased at the reminder points; the
enquiry completes when every agency has answered or the due time has passed, naming who did not
answer; sensitive items go to `sealed`, never to the shareable `findings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from mash_schemas import (
    AgencyFindings,
    AgencyName,
    AgencyResponse,
    Enquiry,
    EnquiryAddendum,
    EnquiryOutcome,
    EnquiryRequest,
    SealedItem,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.domain.exceptions import CompletionNotDue, UnknownAgency
from mash_enquiry.domain.fanout import fan_out
from mash_enquiry.domain.reminders import ReminderPolicy
from mash_enquiry.domain.sensitivity import sensitive_items, shareable_items

Completion = Literal["all_answered", "due_time_passed"]


class EnquiryState(StrEnum):
    """Open while agencies may answer in time; completed once the outcome has been collated."""

    OPEN = "open"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Accepted:
    """The agency's first answer, received while the enquiry is open: it counts in the findings."""

    agency: str


@dataclass(frozen=True)
class Duplicate:
    """The agency had already answered (or this is a redelivery): kept once, this copy ignored."""

    agency: str


@dataclass(frozen=True)
class Late:
    """The agency answered after completion: kept, and forwarded to the case file as an addendum."""

    addendum: EnquiryAddendum


@dataclass(frozen=True)
class Rejected:
    """The answer does not belong to this enquiry (another enquiry, or an agency not asked)."""

    reason: str


ResponseRecorded = Accepted | Duplicate | Late | Rejected


@dataclass(frozen=True)
class ReminderDue:
    """Agency `agency` should get reminder `number` now: its request again, with the reminder number."""

    agency: str
    number: int
    request: EnquiryRequest


class SentReminder(BaseModel):
    """A reminder that went out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    sent_at: AwareDatetime


class EnquiryRecord(BaseModel):
    """One enquiry, from opening to completion and any late answers. Mutated by its methods only."""

    model_config = ConfigDict(extra="forbid")

    enquiry: Enquiry
    opened_at: AwareDatetime
    requests: dict[AgencyName, EnquiryRequest]
    reminder_times: list[AwareDatetime] = Field(default_factory=list)
    responses: dict[AgencyName, AgencyResponse] = Field(default_factory=dict)
    late_responses: dict[AgencyName, AgencyResponse] = Field(default_factory=dict)
    received_at: dict[AgencyName, AwareDatetime] = Field(default_factory=dict)
    reminders_sent: dict[AgencyName, list[SentReminder]] = Field(default_factory=dict)
    state: EnquiryState = EnquiryState.OPEN
    completed_at: AwareDatetime | None = None
    completion: Completion | None = None

    @classmethod
    def open(
        cls,
        enquiry: Enquiry,
        directory: AgencyDirectory,
        now: datetime,
        policy: ReminderPolicy | None = None,
    ) -> EnquiryRecord:
        """A new record for `enquiry`, opened at `now`, with a minimised request per agency.

        `now` starts the window the reminder points are measured in (pass the EnquiryOpened
        envelope's occurred_at so a replay gives the same times). The reminder times are fixed here,
        so a later change of configuration does not move the chasers of enquiries already running.
        Raises UnknownAgency if the enquiry names an agency the hub has no configuration for.
        """
        _require_aware(now)
        requests = fan_out(enquiry, directory)
        times = (policy or directory.reminders).reminder_times(now, enquiry.due_at)
        return cls(
            enquiry=enquiry,
            opened_at=now,
            requests={request.agency: request for request in requests},
            reminder_times=times,
        )

    @property
    def enquiry_id(self) -> str:
        """The enquiry's id."""
        return self.enquiry.enquiry_id

    @property
    def agencies(self) -> list[str]:
        """The agencies asked, in the order the manager named them."""
        return list(self.requests)

    @property
    def unanswered(self) -> list[str]:
        """The agencies asked that have not answered (in time or late)."""
        return [agency for agency in self.requests if not self._answered(agency)]

    def record_response(self, response: AgencyResponse, now: datetime) -> ResponseRecorded:
        """Take an agency's answer received at `now`: Accepted, Duplicate, Late or Rejected."""
        _require_aware(now)
        if response.enquiry_id != self.enquiry_id:
            return Rejected(f"the response names enquiry {response.enquiry_id!r}, not {self.enquiry_id!r}")
        if response.referral_id != self.enquiry.referral_id:
            return Rejected(
                f"the response names referral {response.referral_id!r}, not this enquiry's {self.enquiry.referral_id!r}"
            )
        request = self.requests.get(response.agency)
        if request is None:
            return Rejected(f"agency {response.agency!r} was not asked in enquiry {self.enquiry_id!r}")
        if response.request_id != request.request_id:
            return Rejected(
                f"the response names request {response.request_id!r}, "
                f"not the one sent to {response.agency!r} ({request.request_id!r})"
            )
        if self._answered(response.agency):
            return Duplicate(response.agency)
        self.received_at[response.agency] = now
        if self.state is EnquiryState.OPEN:
            # Accepted even after the due time while nobody has completed the enquiry yet: the
            # answer is here, and the collation has not happened, so it belongs in the findings.
            self.responses[response.agency] = response
            return Accepted(response.agency)
        self.late_responses[response.agency] = response
        return Late(self.addendum(response.agency))

    def reminders_due(self, now: datetime) -> list[ReminderDue]:
        """The reminders to send at `now`: one per unanswered agency that has a reminder point passed.

        If several points passed since the last look (the service was down), only the latest goes
        out: an agency gets one chaser, not a burst. Nothing is due once the enquiry has completed or
        its due time has come, when completion names the agency instead.
        """
        _require_aware(now)
        if self.state is not EnquiryState.OPEN or now >= self.enquiry.due_at:
            return []
        number = sum(1 for moment in self.reminder_times if moment <= now)
        due: list[ReminderDue] = []
        for agency in self.unanswered:
            if number > self.last_reminder(agency):
                request = self.requests[agency]
                reminder = EnquiryRequest.model_validate({**request.model_dump(), "reminder_number": number})
                due.append(ReminderDue(agency=agency, number=number, request=reminder))
        return due

    def mark_reminded(self, agency: str, number: int, now: datetime) -> None:
        """Note that `agency` was sent reminder `number` at `now`; an earlier or repeated number is a no-op."""
        _require_aware(now)
        if agency not in self.requests:
            raise UnknownAgency([agency])
        if number <= self.last_reminder(agency):
            return
        self.reminders_sent.setdefault(agency, []).append(SentReminder(number=number, sent_at=now))

    def last_reminder(self, agency: str) -> int:
        """The number of the last reminder sent to `agency` (0 if none)."""
        sent = self.reminders_sent.get(agency, [])
        return max((reminder.number for reminder in sent), default=0)

    def completion_due(self, now: datetime) -> bool:
        """Whether the enquiry should complete at `now`: open, and all answered or the due time passed."""
        _require_aware(now)
        return self.state is EnquiryState.OPEN and (not self.unanswered or now >= self.enquiry.due_at)

    def complete(self, now: datetime) -> EnquiryOutcome:
        """Collate the outcome at `now`. Completing again returns the same outcome, unchanged.

        Raises CompletionNotDue while agencies are still within their time to answer.
        """
        _require_aware(now)
        if self.state is EnquiryState.COMPLETED:
            return self._outcome()
        if not self.completion_due(now):
            raise CompletionNotDue(
                f"enquiry {self.enquiry_id!r}: {', '.join(self.unanswered)} have until "
                f"{self.enquiry.due_at.isoformat()} to answer"
            )
        self.state = EnquiryState.COMPLETED
        self.completed_at = now
        self.completion = "due_time_passed" if self.unanswered else "all_answered"
        return self._outcome()

    def outcome(self) -> EnquiryOutcome | None:
        """The collated outcome once completed, else None."""
        return self._outcome() if self.state is EnquiryState.COMPLETED else None

    def addendum(self, agency: str) -> EnquiryAddendum:
        """The addendum for `agency`'s late answer (KeyError if it did not answer late)."""
        response = self.late_responses[agency]
        return EnquiryAddendum(
            enquiry_id=self.enquiry_id,
            referral_id=self.enquiry.referral_id,
            findings=_findings(response),
            sealed=_sealed(response),
        )

    def wake_at(self) -> datetime | None:
        """When this record next needs attention (a reminder or completion); None once completed.

        The store keeps it in the document so the sweep can find records due by `wake_at <= now`.
        """
        if self.state is EnquiryState.COMPLETED:
            return None
        unanswered = self.unanswered
        if not unanswered:
            return self.opened_at  # already due for completion
        upcoming = [
            self.reminder_times[self.last_reminder(agency)]
            for agency in unanswered
            if self.last_reminder(agency) < len(self.reminder_times)
        ]
        return min([*upcoming, self.enquiry.due_at])

    def _answered(self, agency: str) -> bool:
        return agency in self.responses or agency in self.late_responses

    def _outcome(self) -> EnquiryOutcome:
        if self.completed_at is None or self.completion is None:
            raise CompletionNotDue(f"enquiry {self.enquiry_id!r} has not been completed")
        answered = [self.responses[agency] for agency in self.requests if agency in self.responses]
        return EnquiryOutcome(
            enquiry_id=self.enquiry_id,
            referral_id=self.enquiry.referral_id,
            completed_at=self.completed_at,
            completion=self.completion,
            findings=[_findings(response) for response in answered],
            sealed=[sealed for response in answered for sealed in _sealed(response)],
            # Agencies that answered only after completion were silent when it counted.
            not_answered=[agency for agency in self.requests if agency not in self.responses],
        )


def _findings(response: AgencyResponse) -> AgencyFindings:
    return AgencyFindings(
        agency=response.agency,
        outcome=response.outcome,
        rating=response.rating,
        safety_scale=response.safety_scale,
        responded_at=response.responded_at,
        items=shareable_items(response.items),
    )


def _sealed(response: AgencyResponse) -> list[SealedItem]:
    return [SealedItem(agency=response.agency, item=item) for item in sensitive_items(response.items)]


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")
