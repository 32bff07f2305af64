"""The register of people the hub already knows, imported from the local authority's case system.

Case-system exports are messy; a bad row is reported with its row number and the field at fault and
left out, so one typo does not stop the rest of the register from loading.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from mash_schemas.common import AllocatedWorker, NhsNumber, Postcode, ShortText
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CSV_COLUMNS = (
    "person_ref",
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "postcode",
    "allocated_worker_name",
    "allocated_worker_team",
    "allocated_worker_email",
)
REQUIRED_CSV_COLUMNS = ("person_ref", "family_name")


class KnownPerson(BaseModel):
    """A person in the local authority's case system, with their allocated social worker if any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_ref: ShortText = Field(description="Id in the local authority's case system.")
    given_name: ShortText | None = None
    family_name: ShortText
    date_of_birth: date | None = None
    nhs_number: NhsNumber | None = None
    postcode: Postcode | None = None
    allocated_worker: AllocatedWorker | None = None

    @field_validator("nhs_number", mode="before")
    @classmethod
    def _nhs_number_without_spacing(cls, value: Any) -> Any:
        # Exports print NHS numbers as '943 476 5919'; the digits are what identify the person.
        return value.replace(" ", "").replace("-", "") if isinstance(value, str) else value

    @field_validator("postcode", mode="before")
    @classmethod
    def _postcode_in_capitals(cls, value: Any) -> Any:
        # The contract's postcode pattern is checked before its upper-casing, so exports in lower case
        # would otherwise be refused.
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _uk_dates(cls, value: Any) -> Any:
        # Case systems export UK-style dates (31/01/2015) as often as ISO ones.
        if isinstance(value, str) and "/" in value:
            try:
                return datetime.strptime(value.strip(), "%d/%m/%Y").date()
            except ValueError:
                raise ValueError("date of birth must be YYYY-MM-DD or DD/MM/YYYY") from None
        return value


class RowProblem(BaseModel):
    """Why one row of an export was left out: its row number (as a spreadsheet shows it) and field."""

    model_config = ConfigDict(frozen=True)

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


class RegisterImportError(ValueError):
    """The case-system export could not be imported (or, when strict, had bad rows)."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        self.problems = problems or []
        details = "; ".join(str(problem) for problem in self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"{message}: {details}{more}" if details else message)


class RegisterImport(BaseModel):
    """The people read from an export, and the rows left out with the reason."""

    model_config = ConfigDict(frozen=True)

    people: list[KnownPerson]
    problems: list[RowProblem] = Field(default_factory=list)

    def raise_for_problems(self) -> None:
        """Refuse the whole import when any row was bad (for hubs that want all or nothing)."""
        if self.problems:
            raise RegisterImportError(f"{len(self.problems)} bad row(s) in the case-system export", self.problems)


def parse_register_csv(text: str) -> RegisterImport:
    """Read a CSV export with a header row naming CSV_COLUMNS; rows are numbered as in a spreadsheet."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
    if missing:
        raise RegisterImportError(f"the export's header lacks required column(s): {', '.join(missing)}")
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if unknown:
        raise RegisterImportError(f"the export's header has unknown column(s): {', '.join(unknown)}")
    reader.fieldnames = header
    records: list[tuple[int, Any]] = []
    try:
        for row in reader:
            # Row 1 is the header; a record spanning lines (quoted newlines) is numbered by its last line.
            records.append((reader.line_num, _record_from_csv_row(row)))
    except csv.Error as error:
        raise RegisterImportError(f"the export is not valid CSV near line {reader.line_num}: {error}") from error
    return _import(records, flat=True)


def parse_register_json(text: str) -> RegisterImport:
    """Read a JSON export: an array of objects with KnownPerson's fields; records are numbered from 1."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RegisterImportError(f"the export is not valid JSON: {error}") from error
    if not isinstance(document, list):
        raise RegisterImportError("the export must be a JSON array of people")
    return _import(list(enumerate(document, start=1)), flat=False)


def _record_from_csv_row(row: dict[str | Any, Any]) -> dict[str, Any]:
    if None in row:
        # DictReader puts surplus cells under the None key: the row has more cells than the header.
        return {"__extra_cells__": row[None]}
    cells = {key: value.strip() for key, value in row.items() if isinstance(value, str) and value.strip()}
    worker = {
        part: cells.pop(f"allocated_worker_{part}")
        for part in ("name", "team", "email")
        if f"allocated_worker_{part}" in cells
    }
    record: dict[str, Any] = dict(cells)
    if worker:
        record["allocated_worker"] = worker
    return record


def _import(records: list[tuple[int, Any]], *, flat: bool) -> RegisterImport:
    people: list[KnownPerson] = []
    problems: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for row, record in records:
        if isinstance(record, dict) and "__extra_cells__" in record:
            problems.append(RowProblem(row=row, field="(row)", message="more cells than the header has columns"))
            continue
        try:
            person = KnownPerson.model_validate(record)
        except ValidationError as error:
            problems.extend(
                RowProblem(row=row, field=_field_name(issue["loc"], flat=flat), message=issue["msg"])
                for issue in error.errors()
            )
            continue
        if person.person_ref in first_row_of:
            problems.append(
                RowProblem(
                    row=row,
                    field="person_ref",
                    message=f"'{person.person_ref}' already given on row {first_row_of[person.person_ref]}",
                )
            )
            continue
        first_row_of[person.person_ref] = row
        people.append(person)
    return RegisterImport(people=people, problems=problems)


def _field_name(location: tuple[int | str, ...], *, flat: bool) -> str:
    """The field at fault as the export names it (CSV columns are flat: allocated_worker_team)."""
    if not location:
        return "(row)"
    if flat and location[0] == "allocated_worker" and len(location) > 1:
        return f"allocated_worker_{location[1]}"
    return ".".join(str(part) for part in location)
