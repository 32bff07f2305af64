"""Turning hand-off summaries, feedback and outcome notices into message text with the packaged templates.

Templates only ever see the gated models (HandoffSummary, ReferrerFeedback, AgencyOutcomeNotice, and a
transfer's TransferNotice, which names only the referrer and where the contact went), never the Decision,
so a template cannot reach information the gates kept back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined
from mash_schemas.federation import TransferNotice

from mash_notify.domain.agency_outcome import AgencyOutcomeNotice
from mash_notify.domain.feedback import ProfessionalFeedback, ReferrerFeedback
from mash_notify.domain.handoff import HandoffSummary
from mash_notify.domain.wording import join_names, outcome_title


@dataclass(frozen=True)
class RenderedText:
    """A message's subject line and plain-text body."""

    subject: str
    body: str


@cache
def _hub_zone() -> tzinfo:
    # Hubs work in English local time; fall back to UTC where the time-zone database is missing.
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        return UTC


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _when(value: datetime) -> str:
    local = value.astimezone(_hub_zone())
    return f"{_day(local.date())} at {local:%H:%M}"


@cache
def _environment() -> Environment:
    # Plain text, not HTML, so no autoescaping; StrictUndefined turns a template typo into an error.
    environment = Environment(
        loader=PackageLoader("mash_notify", "templates"),
        autoescape=False,  # noqa: S701 - text/plain messages; nothing is rendered as HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["day"] = _day
    environment.filters["when"] = _when
    return environment


def render_handoff(summary: HandoffSummary) -> RenderedText:
    """The hand-off message for the receiving service."""
    subjects = join_names([subject.name for subject in summary.subjects])
    title = outcome_title(summary.outcome)
    template = _environment().get_template(f"handoff_{summary.outcome.value}.txt.j2")
    body = template.render(summary=summary, outcome_title=title, subjects=subjects)
    # The subject line shows in inbox lists, so it carries the reference, never a name.
    subject = f"[{summary.rating.value.upper()}] MASH hand-off: {title} (referral {summary.referral_id})"
    return RenderedText(subject=subject, body=body)


def render_feedback(feedback: ReferrerFeedback) -> RenderedText:
    """The feedback message for the referrer, professional or member of the public."""
    if isinstance(feedback, ProfessionalFeedback):
        template = _environment().get_template("feedback_professional.txt.j2")
        subject = f"MASH: outcome of your referral {feedback.referral_id}"
    else:
        template = _environment().get_template("feedback_public.txt.j2")
        subject = f"MASH: your concern {feedback.referral_id} has been considered"
    return RenderedText(subject=subject, body=template.render(feedback=feedback))


def render_transfer_notice(notice: TransferNotice) -> RenderedText:
    """The referrer's notice that their concern went to another hub's front door."""
    template = _environment().get_template("transfer_notice.txt.j2")
    subject = f"MASH: your concern {notice.referral_id} has been passed to {notice.to_hub_name}"
    return RenderedText(subject=subject, body=template.render(notice=notice))


def render_agency_outcome(notice: AgencyOutcomeNotice) -> RenderedText:
    """The outcome notice for one consulted agency."""
    template = _environment().get_template("agency_outcome.txt.j2")
    subject = f"MASH outcome for referral {notice.referral_id}: {notice.outcome_title}"
    return RenderedText(subject=subject, body=template.render(notice=notice))
