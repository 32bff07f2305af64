"""Matching a contact's subjects to people the hub already knows, and finding their allocated worker.

An NHS number is a strong identifier and settles a match on its own. Otherwise the evidence is
weighed: names (fuzzy, so a misspelling still matches), date of birth (allowing day and month
transposed), and postcode. Missing evidence counts for nothing rather than against: a name alone
never reaches the reporting threshold, so a sibling with the same surname at the same address is not
mistaken for the child.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from mash_schemas.common import Subject, SubjectKind
from mash_schemas.referral import SubjectMatch
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from mash_intake.domain.register import KnownPerson

DEFAULT_MATCH_THRESHOLD = 0.8

# How much each kind of evidence contributes when it agrees fully; they sum to 1.
FAMILY_NAME_WEIGHT = 0.35
GIVEN_NAME_WEIGHT = 0.25
DATE_OF_BIRTH_WEIGHT = 0.30
POSTCODE_WEIGHT = 0.10

TRANSPOSED_DATE_OF_BIRTH = 0.8
DATE_OF_BIRTH_ONE_YEAR_OUT = 0.5
# An estimated age only says 'about this old': much weaker than a date of birth.
ESTIMATED_AGE_CONSISTENT = 0.4
SAME_POSTCODE_DISTRICT = 0.5
# Two different NHS numbers almost always mean two different people; a typo is the rare exception.
DIFFERENT_NHS_NUMBER_FACTOR = 0.5
# Names at least this similar make a person a candidate even with no date of birth or postcode in common.
CANDIDATE_NAME_SIMILARITY = 0.8


def normalised_name(name: str) -> str:
    """A name for comparison: accents, case, apostrophes and hyphens do not matter ("O'Brien-Zoë")."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    spaced = "".join(ch if ch.isalpha() else (" " if ch in "- " else "") for ch in letters)
    return " ".join(spaced.split())


def name_similarity(first: str, second: str) -> float:
    """Similarity of two names in [0, 1]; double-barrelled names match either part a little less."""
    a, b = normalised_name(first), normalised_name(second)
    if not a or not b:
        return 0.0
    whole = JaroWinkler.normalized_similarity(a, b)
    parts = fuzz.token_set_ratio(a, b) / 100 * 0.9 if (" " in a or " " in b) else 0.0
    return float(max(whole, parts))


def _postcode_key(postcode: str | None) -> str | None:
    return postcode.replace(" ", "").upper() if postcode else None


def _outward_code(postcode_key: str) -> str:
    # The inward code is always the last three characters of a UK postcode.
    return postcode_key[:-3]


def _transposed(born: date) -> date | None:
    if born.day > 12 or born.day == born.month:
        return None
    try:
        return date(born.year, born.day, born.month)
    except ValueError:
        return None


def _one_year_out(born: date) -> list[date]:
    dates = []
    for year in (born.year - 1, born.year + 1):
        try:
            dates.append(born.replace(year=year))
        except ValueError:  # 29 February
            continue
    return dates


def _age_in_years(born: date, on: date) -> int:
    return on.year - born.year - (1 if (on.month, on.day) < (born.month, born.day) else 0)


def match_confidence(subject: Subject, person: KnownPerson, *, on: date) -> tuple[float, list[str]]:
    """How confident we are that `subject` is `person`, in [0, 1], and the evidence for it."""
    if subject.nhs_number is not None and subject.nhs_number == person.nhs_number:
        return 1.0, ["NHS number equal"]
    reasons: list[str] = []
    family = name_similarity(subject.family_name, person.family_name)
    reasons.append(f"family name similarity {family:.2f}")
    score = FAMILY_NAME_WEIGHT * family
    if subject.given_name and person.given_name:
        given = name_similarity(subject.given_name, person.given_name)
        reasons.append(f"given name similarity {given:.2f}")
        score += GIVEN_NAME_WEIGHT * given
    else:
        reasons.append("given name not known on both sides")
    birth, birth_reason = _date_of_birth_evidence(subject, person, on=on)
    reasons.append(birth_reason)
    score += DATE_OF_BIRTH_WEIGHT * birth
    place, place_reason = _postcode_evidence(subject, person)
    reasons.append(place_reason)
    score += POSTCODE_WEIGHT * place
    if subject.nhs_number is not None and person.nhs_number is not None:
        reasons.append("NHS number differs")
        score *= DIFFERENT_NHS_NUMBER_FACTOR
    return round(min(max(score, 0.0), 1.0), 3), reasons


def _date_of_birth_evidence(subject: Subject, person: KnownPerson, *, on: date) -> tuple[float, str]:
    if subject.kind is SubjectKind.UNBORN_CHILD:
        return 0.0, "unborn child: not matched on date of birth"
    known = person.date_of_birth
    if known is None:
        return 0.0, "date of birth not on record"
    given = subject.date_of_birth
    if given is not None:
        if given == known:
            return 1.0, "date of birth equal"
        if _transposed(given) == known:
            return TRANSPOSED_DATE_OF_BIRTH, "date of birth equal with day and month transposed"
        if known in _one_year_out(given):
            return DATE_OF_BIRTH_ONE_YEAR_OUT, "date of birth differs only in the year, by one"
        return 0.0, "date of birth differs"
    if subject.estimated_age is not None:
        age = _age_in_years(known, on)
        if abs(age - subject.estimated_age) <= 1:
            return ESTIMATED_AGE_CONSISTENT, f"estimated age {subject.estimated_age} consistent with recorded age {age}"
        return 0.0, f"estimated age {subject.estimated_age} inconsistent with recorded age {age}"
    return 0.0, "date of birth not given"


def _postcode_evidence(subject: Subject, person: KnownPerson) -> tuple[float, str]:
    given = _postcode_key(subject.address.postcode if subject.address else None)
    known = _postcode_key(person.postcode)
    if given is None or known is None:
        return 0.0, "postcode not known on both sides"
    if given == known:
        return 1.0, "postcode equal"
    if _outward_code(given) == _outward_code(known):
        return SAME_POSTCODE_DISTRICT, "same postcode district"
    return 0.0, "postcode differs"


class KnownPeopleIndex:
    """The register indexed so that each subject is compared only with plausible candidates."""

    def __init__(self, people: Iterable[KnownPerson]) -> None:
        self.people: list[KnownPerson] = list(people)
        self._by_nhs: dict[str, list[int]] = defaultdict(list)
        self._by_birth: dict[date, list[int]] = defaultdict(list)
        self._by_postcode: dict[str, list[int]] = defaultdict(list)
        self._family_names: list[str] = []
        for position, person in enumerate(self.people):
            if person.nhs_number:
                self._by_nhs[person.nhs_number].append(position)
            if person.date_of_birth:
                self._by_birth[person.date_of_birth].append(position)
            postcode = _postcode_key(person.postcode)
            if postcode:
                self._by_postcode[postcode].append(position)
            self._family_names.append(normalised_name(person.family_name))

    def candidates(self, subject: Subject) -> list[KnownPerson]:
        """People sharing an NHS number, a (possibly mistyped) date of birth, a postcode or a similar name."""
        found: set[int] = set()
        if subject.nhs_number:
            found.update(self._by_nhs.get(subject.nhs_number, []))
        if subject.date_of_birth and subject.kind is not SubjectKind.UNBORN_CHILD:
            born = subject.date_of_birth
            for day in [born, _transposed(born), *_one_year_out(born)]:
                if day is not None:
                    found.update(self._by_birth.get(day, []))
        postcode = _postcode_key(subject.address.postcode if subject.address else None)
        if postcode:
            found.update(self._by_postcode.get(postcode, []))
        family = normalised_name(subject.family_name)
        if family:
            similar = process.extract(
                family,
                self._family_names,
                scorer=JaroWinkler.normalized_similarity,
                score_cutoff=CANDIDATE_NAME_SIMILARITY,
                limit=None,
            )
            found.update(position for _name, _score, position in similar)
        return [self.people[position] for position in sorted(found)]


def match_subjects(
    subjects: Sequence[Subject],
    register: KnownPeopleIndex | Sequence[KnownPerson],
    *,
    on: date,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
) -> list[SubjectMatch]:
    """The best match at or above `threshold` for each subject that has one, with its allocated worker."""
    index = register if isinstance(register, KnownPeopleIndex) else KnownPeopleIndex(register)
    matches: list[SubjectMatch] = []
    for subject in subjects:
        best: tuple[float, str, KnownPerson, list[str]] | None = None
        for person in index.candidates(subject):
            confidence, reasons = match_confidence(subject, person, on=on)
            # Ties go to the lower person_ref so the same register always gives the same answer.
            if confidence < threshold:
                continue
            if best is None or confidence > best[0] or (confidence == best[0] and person.person_ref < best[1]):
                best = (confidence, person.person_ref, person, reasons)
        if best is not None:
            confidence, person_ref, person, reasons = best
            matches.append(
                SubjectMatch(
                    subject_id=subject.subject_id,
                    person_ref=person_ref,
                    confidence=confidence,
                    reasons=reasons,
                    allocated_worker=person.allocated_worker,
                )
            )
    return matches
