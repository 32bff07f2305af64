"""The MASH contact form: what a referrer submits, what they may correct, and the referral built from it.

A police notification that needs the hub is turned into the same referral, so that screening sees one
shape whatever the front door.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from mash_schemas.common import (
    ConcernCategory,
    Consent,
    ConsentStatus,
    HouseholdMember,
    Referrer,
    ReferrerSector,
    ShortText,
    Subject,
)
from mash_schemas.police import PoliceNotification
from mash_schemas.referral import Concern, Narrative, Referral, ReferralAmendment, SubjectMatch, SuggestedRating
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from mash_intake.domain.police_routing import routing_note
from mash_intake.domain.sectors import with_sector

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_NARRATIVE_CHARS = 20_000

FileName = Annotated[
    str,
    # Metadata only, but a name with path separators or control characters is never a real upload.
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f\x7f]+$"),
    # Published with one character that is neither blank nor forbidden: blanks are stripped first.
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200,
                    "pattern": r"^[^/\\\x00-\x1f\x7f]*[^/\\\s\x85\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*$"}),
]
MediaType = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$"),
]


class FormModel(BaseModel):
    """Base for what referrers send: unknown fields are refused so a typo comes back naming the field."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class AttachmentMetadata(FormModel):
    """A document the referrer attached (a chronology, a photo of an injury): its metadata only."""

    file_name: FileName
    media_type: MediaType
    size_bytes: int = Field(gt=0, le=MAX_ATTACHMENT_BYTES)


class ContactSubmission(FormModel):
    """A contact as a referrer submits it: who they are, about whom, the concern, and consent."""

    referrer: Referrer
    subjects: list[Subject] = Field(min_length=1, max_length=20)
    household: list[HouseholdMember] = Field(default_factory=list, max_length=30)
    concern: Concern
    consent: Consent
    attachments: list[AttachmentMetadata] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @model_validator(mode="after")
    def _subjects_are_distinct(self) -> ContactSubmission:
        # Matches and screening refer to subjects by id; two subjects with one id would merge two people.
        ids = [subject.subject_id for subject in self.subjects]
        duplicates = sorted({subject_id for subject_id in ids if ids.count(subject_id) > 1})
        if duplicates:
            raise ValueError(f"subject_id must be unique within a contact; repeated: {', '.join(duplicates)}")
        return self


class ContactCorrection(FormModel):
    """What a referrer may correct or add before screening: more information, household, consent."""

    amended_by: ShortText
    additional_information: Narrative | None = None
    household_added: list[HouseholdMember] = Field(default_factory=list, max_length=30)
    consent: Consent | None = None

    @model_validator(mode="after")
    def _corrects_something(self) -> ContactCorrection:
        if self.additional_information is None and not self.household_added and self.consent is None:
            raise ValueError("a correction must add information, household members or a consent update")
        return self


def build_referral(
    submission: ContactSubmission,
    *,
    referral_id: str,
    received_at: datetime,
    suggested_rating: SuggestedRating,
    matches: list[SubjectMatch],
    linked_referrals: list[str],
    source: Literal["web_form", "api"] = "web_form",
) -> Referral:
    """The referral intake publishes for a contact submitted over HTTP."""
    return Referral(
        referral_id=referral_id,
        source=source,
        received_at=received_at,
        referrer=with_sector(submission.referrer, source),
        subjects=submission.subjects,
        household=submission.household,
        concern=submission.concern,
        consent=submission.consent,
        suggested_rating=suggested_rating,
        matches=matches,
        linked_referrals=linked_referrals,
    )


def build_amendment(correction: ContactCorrection, *, referral_id: str, amended_at: datetime) -> ReferralAmendment:
    """The amendment intake publishes when a referrer corrects a contact before screening."""
    return ReferralAmendment(
        referral_id=referral_id,
        amended_by=correction.amended_by,
        amended_at=amended_at,
        additional_information=correction.additional_information,
        household_added=correction.household_added,
        consent=correction.consent,
    )


# --- Police notifications that need the hub ----------------------------------------------------------

POLICE_CONSENT_REASON = "police notification: consent not sought by police"

_CATEGORIES_BY_NOTIFICATION_TYPE: dict[str, ConcernCategory] = {
    "domestic_abuse": ConcernCategory.DOMESTIC_ABUSE,
    "antisocial_behaviour": ConcernCategory.ANTISOCIAL_BEHAVIOUR,
    "missing_person": ConcernCategory.MISSING,
    "drugs_warrant": ConcernCategory.PARENTAL_SUBSTANCE_MISUSE,
    "crime_suspect": ConcernCategory.OFFENDING_BEHAVIOUR,
    "sexual_offender_alert": ConcernCategory.SEXUAL_OFFENDER_CONTACT,
}

# Police flags are free text; these are the ones that say what kind of harm the notice is about.
_CATEGORIES_BY_FLAG: dict[str, ConcernCategory] = {
    "neglect": ConcernCategory.NEGLECT,
    "poor_home_conditions": ConcernCategory.NEGLECT,
    "children_home_alone": ConcernCategory.NEGLECT,
    "child_home_alone": ConcernCategory.NEGLECT,
    "physical_injury": ConcernCategory.PHYSICAL_ABUSE,
    "sexual_abuse": ConcernCategory.SEXUAL_ABUSE,
    "sexual_offender": ConcernCategory.SEXUAL_OFFENDER_CONTACT,
    "domestic_abuse": ConcernCategory.DOMESTIC_ABUSE,
    "cse": ConcernCategory.CHILD_EXPLOITATION,
    "cce": ConcernCategory.CHILD_EXPLOITATION,
    "child_sexual_exploitation": ConcernCategory.CHILD_EXPLOITATION,
    "child_criminal_exploitation": ConcernCategory.CHILD_EXPLOITATION,
    "county_lines": ConcernCategory.CHILD_EXPLOITATION,
    "exploitation": ConcernCategory.CHILD_EXPLOITATION,
    "trafficking": ConcernCategory.CHILD_EXPLOITATION,
    "fgm": ConcernCategory.FGM,
    "radicalisation": ConcernCategory.RADICALISATION,
    "prevent": ConcernCategory.RADICALISATION,
    "missing": ConcernCategory.MISSING,
    "mental_health": ConcernCategory.PARENTAL_MENTAL_HEALTH,
    "substance_misuse": ConcernCategory.PARENTAL_SUBSTANCE_MISUSE,
    "drugs": ConcernCategory.PARENTAL_SUBSTANCE_MISUSE,
    "alcohol": ConcernCategory.PARENTAL_SUBSTANCE_MISUSE,
}

_EMAIL = TypeAdapter(EmailStr)


def police_flag(flag: str) -> str:
    """A police flag in the one spelling the rules use ('Children at address' -> 'children_at_address')."""
    return "_".join(flag.casefold().replace("-", " ").split())


def police_concern(notification: PoliceNotification) -> Concern:
    """The concern a police notification raises: categories from its type and flags, and its narrative."""
    categories: list[ConcernCategory] = []
    by_type = _CATEGORIES_BY_NOTIFICATION_TYPE.get(notification.notification_type)
    if by_type is not None:
        categories.append(by_type)
    for flag in notification.flags:
        category = _CATEGORIES_BY_FLAG.get(police_flag(flag))
        if category is not None and category not in categories:
            categories.append(category)
    return Concern(categories=categories or [ConcernCategory.OTHER], narrative=_police_narrative(notification))


def _police_narrative(notification: PoliceNotification) -> str:
    """The notice's own words behind a header with what the referral has no field for (type, DASH, flags)."""
    header = [
        f"Police notification {notification.notification_id} ({notification.notification_type.replace('_', ' ')})"
        f" from {notification.force}, incident at {notification.incident_at.isoformat()}.",
        f"Children present: {'yes' if notification.children_present else 'no'}.",
    ]
    if notification.dash_risk is not None:
        header.append(f"DASH risk: {notification.dash_risk}.")
    if notification.flags:
        header.append(f"Flags: {', '.join(notification.flags)}.")
    note = routing_note(notification.routing)
    if note is not None:  # first, so the screener reads it before anything else
        header.insert(0, note)
    prefix = " ".join(header) + "\n\n"
    room = MAX_NARRATIVE_CHARS - len(prefix)
    narrative = notification.narrative
    if len(narrative) > room:
        # The full text stays on the stored notification; the referral says where to find it.
        marker = f" [truncated: full text on police notification {notification.notification_id}]"
        narrative = narrative[: room - len(marker)] + marker
    return prefix + narrative


def police_referrer(notification: PoliceNotification) -> Referrer:
    """The reporting officer, as a professional from the force."""
    email: str | None = None
    if notification.officer_email:
        try:
            email = _EMAIL.validate_python(notification.officer_email)
        except ValidationError:
            # A malformed address must not cost the child a referral; feedback then goes via the force.
            email = None
    return Referrer(role="police officer", agency=notification.force, name=notification.reporting_officer, email=email,
                    sector=ReferrerSector.POLICE)


def referral_from_police_notification(
    notification: PoliceNotification,
    *,
    referral_id: str,
    received_at: datetime,
    suggested_rating: SuggestedRating,
    matches: list[SubjectMatch],
    linked_referrals: list[str],
    consent_recorded_by: str = "intake: police notification feed",
) -> Referral:
    """The referral for a police notification that triage found needs the hub."""
    return Referral(
        referral_id=referral_id,
        source="police_notification",
        received_at=received_at,
        referrer=police_referrer(notification),
        subjects=notification.subjects,
        household=notification.household,
        concern=police_concern(notification),
        consent=Consent(
            status=ConsentStatus.NOT_SOUGHT,
            reason=POLICE_CONSENT_REASON,
            recorded_by=consent_recorded_by,
            recorded_at=received_at,
        ),
        suggested_rating=suggested_rating,
        matches=matches,
        linked_referrals=linked_referrals,
    )
