"""Feedback to the referrer: what the hub decided and what happens next, in plain words.

Feedback never carries an agency's information or the manager's rationale: it is built from the
outcome alone. A member of the public is told only that the hub has considered their concern and
taken appropriate action; the public model has no field for more.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

from mash_schemas import Decision, Outcome
from pydantic import BaseModel, ConfigDict

from mash_notify.domain.wording import outcome_title, subjects_phrase

PUBLIC_ACKNOWLEDGEMENT = "The hub has considered your concern and taken appropriate action."


class _Feedback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutcomeWords(_Feedback):
    """What a professional referrer is told about one outcome."""

    decided: str
    next_step: str


FEEDBACK_WORDS: Mapping[Outcome, OutcomeWords] = {
    Outcome.CHILD_PROTECTION: OutcomeWords(
        decided="The hub has passed your referral to children's social care for a child protection enquiry.",
        next_step=(
            "A social worker will hold a strategy discussion and lead the enquiry; "
            "they may contact you for what you know."
        ),
    ),
    Outcome.STATUTORY_ASSESSMENT: OutcomeWords(
        decided="The hub has passed your referral to the assessment team for a social work assessment.",
        next_step="A social worker will contact the family to carry out an assessment.",
    ),
    Outcome.EARLY_HELP: OutcomeWords(
        decided="The hub has referred the family to Early Help.",
        next_step="Early Help will contact the family to offer support.",
    ),
    Outcome.TARGETED_FAMILY_SUPPORT: OutcomeWords(
        decided="The hub has referred the family to a targeted family support programme.",
        next_step="A family support worker will contact the family.",
    ),
    Outcome.UNIVERSAL_SERVICES: OutcomeWords(
        decided="The hub has decided that the family's needs can be met by universal services.",
        next_step=(
            "Please keep supporting the child and family through your own service, "
            "and contact the hub again if your concern grows."
        ),
    ),
    Outcome.NO_FURTHER_ACTION: OutcomeWords(
        decided="The hub has decided that no further action is needed; your referral is kept on record.",
        next_step="Please contact the hub again if you have any new concern.",
    ),
    Outcome.ALLOCATED_WORKER: OutcomeWords(
        decided="The hub has passed your referral to the social worker already working with the family.",
        next_step="The social worker will consider it and may contact you.",
    ),
}


class ProfessionalFeedback(_Feedback):
    """Feedback to a professional referrer: the outcome and the next step."""

    audience: Literal["professional"] = "professional"
    referral_id: str
    referrer_name: str
    subjects: str
    outcome: Outcome
    outcome_title: str
    decided: str
    next_step: str
    decided_on: date


class PublicFeedback(_Feedback):
    """Feedback to a member of the public: an acknowledgement, and no outcome detail."""

    audience: Literal["public"] = "public"
    referral_id: str
    referrer_name: str
    acknowledgement: str = PUBLIC_ACKNOWLEDGEMENT
    decided_on: date


ReferrerFeedback = ProfessionalFeedback | PublicFeedback


def referrer_feedback(decision: Decision) -> ReferrerFeedback:
    """The feedback the referrer of `decision` gets, according to who they are."""
    decided_on = decision.decided_at.date()
    if decision.referrer.is_member_of_public:
        return PublicFeedback(
            referral_id=decision.referral_id, referrer_name=decision.referrer.name, decided_on=decided_on
        )
    words = FEEDBACK_WORDS[decision.outcome]
    return ProfessionalFeedback(
        referral_id=decision.referral_id,
        referrer_name=decision.referrer.name,
        subjects=subjects_phrase(decision.subjects),
        outcome=decision.outcome,
        outcome_title=outcome_title(decision.outcome),
        decided=words.decided,
        next_step=words.next_step,
        decided_on=decided_on,
    )
