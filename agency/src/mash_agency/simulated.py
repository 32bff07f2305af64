"""Simulated partner agencies for demos, end-to-end tests and load tests.

Each agency's made-up records live in `records/<agency>.yaml`. A record matches an enquiry request
when a person in it (subject or household member) has the record's family name and postcode, and,
where the record gives a date of birth or an expected date, the person's date agrees (a person the
request gives no date for is matched on name and postcode alone). Anything else is "nothing known".
Summaries may say `{date+N}`: N days after the enquiry's due date, so "released next week" stays
next week whenever the demo runs, and the answer depends on the request alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import yaml
from mash_schemas import BragRating, EnquiryRequest, InformationItem
from pydantic import BaseModel, ConfigDict, Field

from mash_agency.adapter import AgencyAnswer

_DATE_PLACEHOLDER = re.compile(r"\{date\+(\d{1,3})\}")


class RecordMatch(BaseModel):
    """Whom a record is about, as the agency's search would find them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family_name: str = Field(min_length=1)
    postcode: str = Field(min_length=5)
    date_of_birth: date | None = None
    expected_date: date | None = None


class SimulatedRecord(BaseModel):
    """One made-up record: who it matches, the agency's rating, and the items it yields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str
    scenario: int | None = Field(None, description="The SCENARIOS.md case it belongs to; None for decoys.")
    note: str | None = None
    match: RecordMatch
    rating: BragRating
    items: list[InformationItem] = Field(min_length=1)


class SimulatedRecords(BaseModel):
    """An agency's whole simulated record set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str
    responded_by: str
    records: list[SimulatedRecord] = Field(default_factory=list)


@dataclass(frozen=True)
class _Person:
    family_name: str
    postcodes: frozenset[str]
    date_of_birth: date | None
    expected_date: date | None


def normalise_name(name: str) -> str:
    """Family names compare without case, spaces or apostrophes ("O'Neil" = "ONeil")."""
    return re.sub(r"[\s'\u2019-]", "", name).casefold()


def normalise_postcode(postcode: str) -> str:
    """Postcodes compare without spaces or case."""
    return postcode.replace(" ", "").upper()


def records_path(agency: str) -> Path:
    """Where the package keeps `agency`'s simulated records."""
    return Path(str(resources.files("mash_agency") / "records" / f"{agency}.yaml"))


def simulated_agencies() -> list[str]:
    """Agencies that have simulated records."""
    folder = Path(str(resources.files("mash_agency") / "records"))
    return sorted(path.stem for path in folder.glob("*.yaml"))


def load_records(agency: str, path: Path | None = None) -> SimulatedRecords:
    """`agency`'s simulated records; an agency without a file knows nothing of anyone."""
    source = path or records_path(agency)
    if not source.exists():
        return SimulatedRecords(agency=agency, responded_by=f"{agency} (simulated)")
    loaded = SimulatedRecords.model_validate(yaml.safe_load(source.read_text(encoding="utf-8")))
    if loaded.agency != agency:
        raise ValueError(f"{source} holds records of {loaded.agency!r}, not {agency!r}")
    return loaded


def _people(request: EnquiryRequest) -> list[_Person]:
    subject_postcodes = frozenset(
        normalise_postcode(subject.address.postcode)
        for subject in request.subjects
        if subject.address is not None and subject.address.postcode is not None
    )
    people = [
        _Person(
            family_name=normalise_name(subject.family_name),
            postcodes=frozenset({normalise_postcode(subject.address.postcode)})
            if subject.address is not None and subject.address.postcode is not None
            else subject_postcodes,
            date_of_birth=subject.date_of_birth,
            expected_date=subject.expected_date,
        )
        for subject in request.subjects
    ]
    for member in request.household:
        # A household member without an address of their own lives where the subjects live.
        own = member.address.postcode if member.address is not None else None
        people.append(
            _Person(
                family_name=normalise_name(member.family_name),
                postcodes=frozenset({normalise_postcode(own)}) if own else subject_postcodes,
                date_of_birth=member.date_of_birth,
                expected_date=None,
            )
        )
    return people


def record_matches(record: SimulatedRecord, request: EnquiryRequest) -> bool:
    """Whether any person in `request` is the person `record` is about."""
    wanted = record.match
    name = normalise_name(wanted.family_name)
    postcode = normalise_postcode(wanted.postcode)
    for person in _people(request):
        if person.family_name != name or postcode not in person.postcodes:
            continue
        if wanted.date_of_birth and person.date_of_birth and person.date_of_birth != wanted.date_of_birth:
            continue
        if wanted.expected_date and person.expected_date and person.expected_date != wanted.expected_date:
            continue
        if wanted.expected_date and person.expected_date is None and person.date_of_birth is not None:
            continue  # a born person is not the pregnancy the record is about
        return True
    return False


def _spoken_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _fill_dates(text: str, base: date) -> str:
    return _DATE_PLACEHOLDER.sub(lambda found: _spoken_date(base + timedelta(days=int(found[1]))), text)


def _dated_item(item: InformationItem, base: date) -> InformationItem:
    release = item.release
    if release is not None and release.permitted_wording:
        release = release.model_copy(update={"permitted_wording": _fill_dates(release.permitted_wording, base)})
    return item.model_copy(update={"summary": _fill_dates(item.summary, base), "release": release})


class SimulatedAgency:
    """An adapter answering from the agency's simulated records (see the module docstring)."""

    def __init__(self, agency: str, records: SimulatedRecords | None = None) -> None:
        self.agency = agency
        self.records = records if records is not None else load_records(agency)

    def answer(self, request: EnquiryRequest) -> AgencyAnswer:
        """The answer to `request`: every matching record's items, rated at the most serious record."""
        matched = [record for record in self.records.records if record_matches(record, request)]
        if not matched:
            return AgencyAnswer.nothing_known(self.records.responded_by)
        base = request.due_at.date()
        items = [_dated_item(item, base) for record in matched for item in record.items]
        rating = BragRating.highest([record.rating for record in matched])
        assert rating is not None  # matched is not empty
        return AgencyAnswer.information_held(items, rating, self.records.responded_by)

    async def search(self, request: EnquiryRequest) -> AgencyAnswer:
        """The adapter protocol: searching simulated records needs no I/O."""
        return self.answer(request)
