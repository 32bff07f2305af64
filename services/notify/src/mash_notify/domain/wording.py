"""The hub's words for outcomes, people, agencies and services, shared by every message notify sends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mash_schemas import Outcome, Subject, SubjectKind

OUTCOME_TITLES: Mapping[Outcome, str] = {
    Outcome.CHILD_PROTECTION: "Child protection enquiry (s47) and strategy discussion",
    Outcome.STATUTORY_ASSESSMENT: "Statutory assessment (child in need, s17)",
    Outcome.EARLY_HELP: "Early Help",
    Outcome.TARGETED_FAMILY_SUPPORT: "Targeted family support",
    Outcome.UNIVERSAL_SERVICES: "Universal services and advice",
    Outcome.NO_FURTHER_ACTION: "No further action (kept as information)",
    Outcome.ALLOCATED_WORKER: "Passed to the allocated social worker",
}

# Names used when the recipients configuration gives none; configuration wins.
DEFAULT_SERVICE_NAMES: Mapping[str, str] = {
    "assessment-team": "the assessment team (children's social care)",
    "early-help": "Early Help",
    "targeted-family-support": "targeted family support",
    "universal-services": "universal services",
    "information-only": "the hub's records (information only)",
    "allocated-worker": "the allocated social worker",
}


def outcome_title(outcome: Outcome) -> str:
    """The outcome as a MASH manager would name it."""
    return OUTCOME_TITLES[outcome]


def subject_name(subject: Subject) -> str:
    """How a subject is named in a message: given and family name, or 'unborn baby <family>'."""
    if subject.given_name:
        return f"{subject.given_name} {subject.family_name}"
    if subject.kind is SubjectKind.UNBORN_CHILD:
        return f"unborn baby {subject.family_name}"
    return subject.family_name


def join_names(parts: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def subjects_phrase(subjects: Iterable[Subject]) -> str:
    """'Kai Turner', 'Kai Turner and Mia Turner', 'A, B and C'."""
    return join_names([subject_name(subject) for subject in subjects])


def subjects_possessive(subjects: Iterable[Subject]) -> str:
    """'Kai Turner's', 'Kai Turner's and Mia Turner's' — as in '<...> safety'."""
    return join_names([f"{subject_name(subject)}'s" for subject in subjects])


def agency_title(agency: str, names: Mapping[str, str]) -> str:
    """An agency's display name from configuration, else its id made readable ('youth-offending')."""
    if agency in names:
        return names[agency]
    readable = agency.replace("-", " ")
    return readable[:1].upper() + readable[1:]


def service_title(service: str, names: Mapping[str, str]) -> str:
    """A receiving service's display name from configuration, else a known default, else its id."""
    return names.get(service) or DEFAULT_SERVICE_NAMES.get(service) or service.replace("-", " ")


def sentence(text: str) -> str:
    """`text` ending with exactly one full stop, so configured routes read as sentences."""
    return text.rstrip().rstrip(".") + "."
