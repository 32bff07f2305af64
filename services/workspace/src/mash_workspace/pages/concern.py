"""'Report a concern': the contact form for professionals and for the public, posting to intake.

The page checks what a person can fix at once (a missing name, an impossible date) and then lets
intake, the source of truth, validate the contact; intake's refusals name fields by their path
(`subjects.0.address.postcode`), which this module maps back to the form's inputs so every message
appears in the GOV.UK error summary and beside its field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from mash_schemas.common import ConsentStatus, SubjectKind
from mash_schemas.text import CONTROL_MESSAGE, FREE_CONTROL_MESSAGE, forbidden_character, public_message
from starlette import status
from starlette.datastructures import FormData

from mash_workspace.choices import CATEGORIES, REFERRER_CONSENT, SUBJECT_KINDS
from mash_workspace.clients import ApiError
from mash_workspace.security import csrf_form
from mash_workspace.web import Identifier, Pages, PagesDep, form_text

Kind = Literal["professional", "public"]
FIELDS = [
    "referrer-name", "referrer-role", "referrer-agency", "referrer-email", "referrer-phone",
    "subject-kind", "subject-given_name", "subject-family_name", "subject-date_of_birth", "subject-expected_date",
    "subject-estimated_age", "subject-address-line", "subject-address-town", "subject-address-postcode",
    "subject-nhs_number", "household-given_name", "household-family_name", "household-relationship",
    "concern-categories", "concern-narrative", "concern-actions_taken", "consent-status", "consent-reason",
]
# The error summary links a date's message to the date's first input, as the GOV.UK date input pattern asks.
ERROR_ANCHORS = {"subject-date_of_birth": "subject-date_of_birth-day",
                 "subject-expected_date": "subject-expected_date-day"}
# Each text input as its message names it (GOV.UK error messages name the field the way its label does).
LABELS = {
    "referrer-name": "Your full name", "referrer-role": "Your role", "referrer-agency": "Your organisation",
    "referrer-email": "Your email address", "referrer-phone": "Your phone number",
    "subject-given_name": "Their first name", "subject-family_name": "Their last name",
    "subject-address-line": "Their address", "subject-address-town": "Town or city",
    "subject-address-postcode": "Postcode", "subject-nhs_number": "NHS number",
    "household-given_name": "The household member's first name",
    "household-family_name": "The household member's last name",
    "household-relationship": "Their relationship to the child",
    "concern-narrative": "What happened", "concern-actions_taken": "What you have already done",
    "consent-reason": "Why consent was not given",
}
TEXTAREAS = frozenset({"concern-narrative", "concern-actions_taken", "consent-reason"})


def refused_text(form: FormData, errors: dict[str, str]) -> None:
    """The contract's rule for text, checked before sending: a control character is named at its field.

    Intake refuses the same (mash_schemas.text); checking here says it in the form's words at once.
    """
    for name, label in LABELS.items():
        multiline = name in TEXTAREAS
        if name not in errors and forbidden_character(form_text(form, name), multiline=multiline) is not None:
            errors[name] = public_message(label, FREE_CONTROL_MESSAGE if multiline else CONTROL_MESSAGE)


def public_refusal(path: str, message: str) -> tuple[str, str]:
    """Intake's refusal of a field as the form's input and a message in GOV.UK words."""
    name = field_of(path)
    return name, public_message(LABELS.get(name, "This answer"), message)


def _date(form: FormData, name: str, errors: dict[str, str], label: str) -> date | None:
    parts = [form_text(form, f"{name}-{part}") for part in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        day, month, year = (int(part) for part in parts)
        return date(year, month, day)
    except ValueError:
        errors[name] = f"{label} must be a real date, for example 27 3 2019"
        return None


def field_of(path: str) -> str:
    """Intake's field path as the form's input name ('subjects.0.address.postcode' -> 'subject-address-postcode')."""
    parts = path.split(".")
    if parts[:2] == ["subjects", "0"]:
        parts = ["subject", *parts[2:]]
    elif parts[:2] == ["household", "0"]:
        parts = ["household", *parts[2:]]
    if parts[:2] == ["subject", "address"] and len(parts) > 2 and parts[2] == "lines":
        parts = ["subject", "address", "line"]
    while parts:  # 'concern.categories.0' (one bad entry) goes to the input of the whole list
        name = "-".join(parts)
        if name in FIELDS:
            return name
        for known in FIELDS:  # a model-level message ('subjects.0') goes to the first input of that part
            if known.startswith(name + "-"):
                return known
        parts = parts[:-1]
    return "referrer-name"


def contact_from(form: FormData, kind: Kind, errors: dict[str, str]) -> dict[str, Any]:
    """The contact intake takes, from the form; what a person must fix at once goes into `errors`."""
    public = kind == "public"
    name = form_text(form, "referrer-name")
    if not name:
        errors["referrer-name"] = "Enter your name"
    role = "member of the public" if public else form_text(form, "referrer-role")
    if public and form_text(form, "referrer-role"):
        role = f"member of the public ({form_text(form, 'referrer-role')})"
    if not role:
        errors["referrer-role"] = "Enter your role, for example designated safeguarding lead"
    email, phone = form_text(form, "referrer-email"), form_text(form, "referrer-phone")
    if not public and not email:
        errors["referrer-email"] = "Enter your work email address, so the hub can tell you what happens next"
    referrer: dict[str, Any] = {"name": name, "role": role, "is_member_of_public": public,
                                "email": email or None, "phone": phone or None}
    if not public:
        referrer["agency"] = form_text(form, "referrer-agency") or None

    subject_kind = form_text(form, "subject-kind") or SubjectKind.CHILD.value
    family_name = form_text(form, "subject-family_name")
    if not family_name:
        errors["subject-family_name"] = "Enter their last name (or 'not known')"
    born = _date(form, "subject-date_of_birth", errors, "Date of birth")
    expected = _date(form, "subject-expected_date", errors, "Expected date of birth")
    if subject_kind == SubjectKind.UNBORN_CHILD and expected is None and "subject-expected_date" not in errors:
        errors["subject-expected_date"] = "Enter the expected date of birth of the unborn child"
    if born is not None and born > datetime.now(UTC).date():
        errors["subject-date_of_birth"] = "Date of birth must be in the past"
    age_text = form_text(form, "subject-estimated_age")
    estimated_age: int | None = None
    if age_text:
        if age_text.isdigit() and int(age_text) <= 120:
            estimated_age = int(age_text)
        else:
            errors["subject-estimated_age"] = "Age must be a whole number of years, like 7"
    line, town, postcode = (form_text(form, f"subject-address-{part}") for part in ("line", "town", "postcode"))
    subject: dict[str, Any] = {
        "subject_id": "S1", "kind": subject_kind, "given_name": form_text(form, "subject-given_name") or None,
        "family_name": family_name, "estimated_age": estimated_age,
        "date_of_birth": born.isoformat() if born and subject_kind != SubjectKind.UNBORN_CHILD else None,
        "expected_date": expected.isoformat() if expected and subject_kind == SubjectKind.UNBORN_CHILD else None,
        "nhs_number": form_text(form, "subject-nhs_number").replace(" ", "") or None,
        "address": {"lines": [line] if line else [], "town": town or None, "postcode": postcode or None}
        if (line or town or postcode) else None,
    }
    household = []
    if form_text(form, "household-family_name") or form_text(form, "household-relationship"):
        household.append({"given_name": form_text(form, "household-given_name") or None,
                          "family_name": form_text(form, "household-family_name"),
                          "relationship": form_text(form, "household-relationship")})

    categories = [value for value in form.getlist("concern-categories") if isinstance(value, str)]
    if not categories:
        errors["concern-categories"] = "Select at least one thing you are worried about"
    narrative = form_text(form, "concern-narrative")
    if not narrative:
        errors["concern-narrative"] = "Tell us what happened and what worries you"
    refused_text(form, errors)
    consent_status = form_text(form, "consent-status")
    consent_reason = form_text(form, "consent-reason")
    if not consent_status:
        errors["consent-status"] = "Select whether the family agreed to you contacting us"
    elif consent_status != ConsentStatus.GIVEN and not consent_reason:
        errors["consent-reason"] = "Say why consent was not given or not sought"
    return {
        "referrer": referrer,
        "subjects": [subject],
        "household": household,
        "concern": {"categories": categories, "narrative": narrative,
                    "actions_taken": form_text(form, "concern-actions_taken") or None},
        "consent": {"status": consent_status or ConsentStatus.NOT_SOUGHT.value, "reason": consent_reason or None,
                    "recorded_by": name or "referrer"},
    }


router = APIRouter()
"""Routes for anyone with a concern about a child (no sign-in)."""


def form_page(pages: Pages, request: Request, kind: Kind, form: dict[str, str], errors: dict[str, str] | None = None,
              status_code: int = 200) -> Response:
    title = "Report a concern as a professional" if kind == "professional" else "Report a concern about a child"
    ordered = {name: errors[name] for name in FIELDS if errors and name in errors}
    return pages.render(request, "concern/form.html", status_code=status_code, title=title, kind=kind,
                        form=form, errors=ordered, error_anchors=ERROR_ANCHORS, subject_kinds=SUBJECT_KINDS,
                        categories=CATEGORIES,
                        consent=REFERRER_CONSENT, submission_id=form.get("submission_id") or str(uuid.uuid4()))


@router.get("/report-a-concern")
async def start(request: Request, pages: PagesDep) -> Response:
    return pages.render(request, "concern/start.html", title="Report a concern about a child")


@router.get("/report-a-concern/{kind}")
async def blank(request: Request, pages: PagesDep, kind: Kind) -> Response:
    return form_page(pages, request, kind, {})


@router.post("/report-a-concern/{kind}")
async def submit(request: Request, pages: PagesDep, kind: Kind, form: csrf_form) -> Response:
    errors: dict[str, str] = {}
    contact = contact_from(form, kind, errors)
    echo = {key: value for key, value in form.multi_items() if isinstance(value, str) and key != "csrf_token"}
    echo["concern-categories"] = ",".join(v for v in form.getlist("concern-categories") if isinstance(v, str))
    if errors:
        return form_page(pages, request, kind, echo, errors, status.HTTP_400_BAD_REQUEST)
    submission_id = form_text(form, "submission_id") or str(uuid.uuid4())
    try:
        accepted = await pages.clients.intake.submit_contact(contact, f"workspace-{submission_id}")
    except ApiError as error:
        if error.status != 422:
            return pages.render(request, "error.html", status_code=502, title="Sorry, there is a problem",
                                message="Your report was not sent. Try again, or phone the hub if a child "
                                        "is in danger now.")
        refused = dict(public_refusal(path, message) for path, message in error.fields.items())
        return form_page(pages, request, kind, echo, refused or {"concern-narrative": error.message},
                         status.HTTP_400_BAD_REQUEST)
    referral_id = accepted["referral_id"]
    reports = dict(request.session.get("reports", {}))
    reports[referral_id] = accepted["status_token"]
    request.session["reports"] = dict(list(reports.items())[-5:])
    return RedirectResponse(f"/report-a-concern/sent/{referral_id}", status.HTTP_303_SEE_OTHER)


@router.get("/report-a-concern/sent/{referral_id}")
async def sent(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    if referral_id not in request.session.get("reports", {}):
        return pages.render(request, "error.html", status_code=404, title="Page not found",
                            message="This report was not made in this browser.")
    return pages.render(request, "concern/sent.html", title="Your report has been sent", referral_id=referral_id)


@router.get("/report-a-concern/status/{referral_id}")
async def contact_status(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    token = request.session.get("reports", {}).get(referral_id)
    if not isinstance(token, str):
        return pages.render(request, "error.html", status_code=404, title="Page not found",
                            message="This report was not made in this browser.")
    try:
        progress = await pages.clients.intake.contact_status(token, referral_id)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "concern/status.html", title="What has happened to your report",
                        progress=progress, referral_id=referral_id)
