"""Outcome notices to the agencies the hub consulted: the outcome, who receives the case, and thanks.

A notice carries no agency's items, not even the recipient's own: each agency already holds its own,
and the notice model has no field for anyone else's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from mash_schemas import AgencyName, Decision, Outcome
from pydantic import BaseModel, ConfigDict

from mash_notify.domain.wording import agency_title, outcome_title, service_title, subjects_phrase


class AgencyOutcomeNotice(BaseModel):
    """The notice one consulted agency receives after the decision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: AgencyName
    agency_name: str
    referral_id: str
    subjects: str
    outcome: Outcome
    outcome_title: str
    receiving_service: str
    receiving_service_name: str
    decided_on: date
    thanks: str


def agency_outcome_notices(
    decision: Decision,
    agency_names: Mapping[str, str] | None = None,
    service_names: Mapping[str, str] | None = None,
) -> list[AgencyOutcomeNotice]:
    """One notice per agency consulted on `decision`, in the order they were consulted."""
    agencies = dict.fromkeys(decision.agencies_consulted)  # ordered and without repeats
    service_name = service_title(decision.receiving_service, service_names or {})
    return [
        AgencyOutcomeNotice(
            agency=agency,
            agency_name=agency_title(agency, agency_names or {}),
            referral_id=decision.referral_id,
            subjects=subjects_phrase(decision.subjects),
            outcome=decision.outcome,
            outcome_title=outcome_title(decision.outcome),
            receiving_service=decision.receiving_service,
            receiving_service_name=service_name,
            decided_on=decision.decided_at.date(),
            thanks=(
                f"Thank you for searching your records and answering the enquiry. "
                f"Your information helped the hub reach this decision for {subjects_phrase(decision.subjects)}."
            ),
        )
        for agency in agencies
    ]
