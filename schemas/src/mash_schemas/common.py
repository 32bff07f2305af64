"""Value types shared by several events: people, addresses, ratings, consent, referrers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict

from mash_schemas.evolution import known_fields_only
from mash_schemas.text import Note
from mash_schemas.text import ShortText as ShortText

AgencyName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$"),
    Field(description="A partner agency's id as configured in the hub, e.g. 'police', 'health'."),
]
def _postcode_form(value: object) -> object:
    # Referrers type postcodes in any case and spacing; normalise before the pattern is checked.
    return " ".join(value.upper().split()) if isinstance(value, str) else value


Postcode = Annotated[
    str,
    BeforeValidator(_postcode_form),
    StringConstraints(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"),
    # What a client may send: the normalised form's pattern in any case and spacing (published, so that the
    # contract names what is accepted instead of "any string").
    WithJsonSchema({"type": "string", "pattern": r"^ *[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2} *$",
                    "description": "A UK postcode, in any case and spacing (stored upper case, e.g. 'EX1 1AA')."}),
]
NhsNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]


class Model(BaseModel):
    """Base for contract models: immutable; unknown fields refused when writing, ignored when reading.

    A producer building a model with a field the contract does not name (a typo) fails, so typos surface
    where they are made. A consumer reading through `mash_schemas.evolution.read_event` validates in
    reading mode, where fields a newer producer added are dropped instead (tolerant reader).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _ignore_unknown_fields_when_reading(cls, data: Any, info: ValidationInfo) -> Any:
        return known_fields_only(cls, data, info)


class BragRating(StrEnum):
    """The hub's risk rating. Blue: universal; green: Early Help; amber: s17 assessment; red: s47."""

    BLUE = "blue"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def severity(self) -> int:
        """Position in the scale, so ratings can be compared (red is highest)."""
        return _SEVERITY[self]

    @classmethod
    def highest(cls, ratings: list[BragRating]) -> BragRating | None:
        """The most serious of `ratings`, or None when there are none."""
        return max(ratings, key=lambda rating: rating.severity) if ratings else None


_SEVERITY = {BragRating.BLUE: 0, BragRating.GREEN: 1, BragRating.AMBER: 2, BragRating.RED: 3}


class SubjectKind(StrEnum):
    """Who a contact is about. Hubs also take vulnerable adults, so 'child' is not assumed."""

    CHILD = "child"
    UNBORN_CHILD = "unborn_child"
    ADULT_AT_RISK = "adult_at_risk"


class ConcernCategory(StrEnum):
    """Categories on a MASH contact form."""

    NEGLECT = "neglect"
    PHYSICAL_ABUSE = "physical_abuse"
    SEXUAL_ABUSE = "sexual_abuse"
    EMOTIONAL_ABUSE = "emotional_abuse"
    DOMESTIC_ABUSE = "domestic_abuse"
    CHILD_EXPLOITATION = "child_exploitation"
    FGM = "fgm"
    RADICALISATION = "radicalisation"
    MISSING = "missing"
    PARENTAL_MENTAL_HEALTH = "parental_mental_health"
    PARENTAL_SUBSTANCE_MISUSE = "parental_substance_misuse"
    OFFENDING_BEHAVIOUR = "offending_behaviour"
    ANTISOCIAL_BEHAVIOUR = "antisocial_behaviour"
    SEXUAL_OFFENDER_CONTACT = "sexual_offender_contact"
    EMOTIONAL_WELLBEING = "emotional_wellbeing"
    OTHER = "other"


class ConsentStatus(StrEnum):
    """Whether the family agreed to information being shared."""

    GIVEN = "given"
    REFUSED = "refused"
    NOT_SOUGHT = "not_sought"
    # Refused or not given, and the hub shares all the same (risk of significant harm); the reason says why.
    OVERRIDDEN = "overridden"


class Address(Model):
    """A postal address; the postcode is what matching and agencies' searches rely on."""

    lines: list[ShortText] = Field(default_factory=list, max_length=4)
    town: ShortText | None = None
    postcode: Postcode | None = None


def _subject_dates_rule(schema: JsonDict) -> None:
    """Publish `_kind_has_its_dates` in the JSON Schema, so a schema-valid subject is an accepted one."""
    schema["if"] = {"properties": {"kind": {"const": "unborn_child"}}, "required": ["kind"]}
    schema["then"] = {"required": ["expected_date"], "properties": {
        "expected_date": {"type": "string", "format": "date"}, "date_of_birth": {"type": "null"}}}
    schema["else"] = {"properties": {"expected_date": {"type": "null"}}}


class Subject(Model):
    """A person the contact is about: a child, an unborn child or an adult at risk."""

    model_config = ConfigDict(json_schema_extra=_subject_dates_rule)

    subject_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: SubjectKind = SubjectKind.CHILD
    given_name: ShortText | None = None
    family_name: ShortText
    date_of_birth: date | None = None
    estimated_age: int | None = Field(None, ge=0, le=120)
    expected_date: date | None = Field(None, description="Expected date of delivery, for an unborn child.")
    nhs_number: NhsNumber | None = None
    address: Address | None = None

    @model_validator(mode="after")
    def _kind_has_its_dates(self) -> Subject:
        # An unborn child has an expected date instead of a date of birth; say so at the field.
        if self.kind is SubjectKind.UNBORN_CHILD:
            if self.expected_date is None:
                raise ValueError("expected_date is required for an unborn child")
            if self.date_of_birth is not None:
                raise ValueError("an unborn child has expected_date, not date_of_birth")
        elif self.expected_date is not None:
            raise ValueError("expected_date is only for an unborn child")
        return self


class HouseholdMember(Model):
    """Another person in the household (parent, partner, sibling, lodger)."""

    given_name: ShortText | None = None
    family_name: ShortText
    relationship: ShortText = Field(description="Relationship to the subject, e.g. 'mother', 'partner'.")
    date_of_birth: date | None = None
    address: Address | None = None


class ReferrerSector(StrEnum):
    """Where a contact or consultation comes from, as the hub reports it (by source)."""

    POLICE = "police"
    EDUCATION = "education"  # schools, colleges, their safeguarding leads
    EARLY_YEARS = "early_years"  # nurseries, childminders, children's centres
    HEALTH = "health"  # GPs, health visitors, midwives, hospitals, mental health, ambulance
    SOCIAL_CARE = "social_care"  # children's and adult social care, Early Help
    PROBATION = "probation"
    YOUTH_OFFENDING = "youth_offending"
    HOUSING = "housing"
    VOLUNTARY = "voluntary"  # charities, faith groups, domestic-abuse services
    PUBLIC = "public"  # members of the public, family, neighbours
    OTHER = "other"


class Referrer(Model):
    """Who made the contact. A member of the public's identity is protected: it never leaves the hub."""

    role: ShortText = Field(description="e.g. 'designated safeguarding lead', 'GP', 'member of the public'.")
    agency: ShortText | None = Field(None, description="The referrer's organisation, if a professional.")
    name: ShortText
    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$")] | None = None
    is_member_of_public: bool = False
    sector: ReferrerSector | None = Field(
        None, description="The referrer's sector, for the hub's figures by source; intake fills it in when not given."
    )


def _consent_reason_rule(schema: JsonDict) -> None:
    """Publish `_reason_unless_given` in the JSON Schema, so a schema-valid consent is an accepted one."""
    schema["if"] = {"properties": {"status": {"const": "given"}}, "required": ["status"]}
    schema["else"] = {"required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}}


class Consent(Model):
    """The consent position: given, refused or not sought, with the reason and who recorded it."""

    model_config = ConfigDict(json_schema_extra=_consent_reason_rule)

    status: ConsentStatus
    reason: Note | None = None
    recorded_by: ShortText
    recorded_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _reason_unless_given(self) -> Consent:
        if self.status is not ConsentStatus.GIVEN and not self.reason:
            raise ValueError("a reason is required when consent is refused, not sought or overridden")
        return self


class AllocatedWorker(Model):
    """The social worker already allocated to a subject in the local authority's case system."""

    name: ShortText
    team: ShortText
    email: EmailStr | None = None


def utc_iso(moment: datetime) -> str:
    """ISO-8601 text of an aware datetime, for places that store text."""
    return moment.isoformat()


Channel = Literal["email", "webhook"]
