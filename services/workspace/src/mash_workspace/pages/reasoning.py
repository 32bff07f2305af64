"""The front door's reasoning on the screening and decision forms (issue 23): the Signs of Safety analysis and
the child's voice, as flat form inputs, turned into what the decision service takes.

The inputs are named so that a refusal the service names (`risk_analysis.harm`, `childs_voice.child.views`)
lands on the input the person can correct (`harm`, `child_views`). Nothing is sent for a part left blank, so
a form that records no reasoning posts exactly what it posted before.
"""

from __future__ import annotations

from typing import Any

from mash_schemas.practice import COLUMNS, NOT_KNOWN_WORDING, SAFETY_SCALE_MEANING, STATEMENT_FIELDS
from starlette.datastructures import FormData

from mash_workspace.web import form_text

PARTS = {"child": "the child's wishes and feelings", "parents": "the parents' views"}
VOICE_INPUTS = ("known", "views", "not_known_because", "detail")
INPUTS = (*STATEMENT_FIELDS, "safety_scale", *(f"{part}_{name}" for part in PARTS for name in VOICE_INPUTS),
          "risk_analysis_rationale")
NOT_KNOWN = [(reason.value, words[0].upper() + words[1:]) for reason, words in NOT_KNOWN_WORDING.items()]

# Each input as its messages name it (GOV.UK: "Harm that has happened must be 5,000 characters or fewer").
LABELS: dict[str, str] = {
    **{name: label for _, fields in COLUMNS for name, label in fields},
    "safety_scale": "The safety scale",
    **{f"{part}_known": f"Whether {words} are known" for part, words in PARTS.items()},
    **{f"{part}_views": words[0].upper() + words[1:] for part, words in PARTS.items()},
    **{f"{part}_not_known_because": f"Why {words} are not known" for part, words in PARTS.items()},
    **{f"{part}_detail": f"More about why {words} are not known" for part, words in PARTS.items()},
    "risk_analysis_rationale": "Why you changed the risk analysis",
}


def input_for(path: str) -> str | None:
    """The form input a service's field path names: risk_analysis.harm -> harm, childs_voice.child.views ->
    child_views, childs_voice (or a whole part) -> its 'known' question; else the path's last named part."""
    parts = [part for part in path.split(".") if not part.isdigit()]
    if not parts:
        return None
    if parts[0] == "risk_analysis" and len(parts) > 1:
        return parts[1]
    if parts[0] == "childs_voice":
        part = parts[1] if len(parts) > 1 and parts[1] in PARTS else "child"
        return f"{part}_{parts[2]}" if len(parts) > 2 and parts[2] in VOICE_INPUTS else f"{part}_known"
    return parts[-1]


def posted(form: FormData) -> dict[str, str]:
    """The reasoning inputs as typed (trimmed), to send and to show again."""
    return {name: form_text(form, name) for name in INPUTS}


def from_view(view: dict[str, Any]) -> dict[str, str]:
    """The inputs filled from the case as it stands (the analysis to sanction, the child's voice on file)."""
    filled = dict.fromkeys(INPUTS, "")
    analysis = view.get("risk_analysis") or {}
    for name in STATEMENT_FIELDS:
        filled[name] = analysis.get(name) or ""
    if analysis.get("safety_scale") is not None:
        filled["safety_scale"] = str(analysis["safety_scale"])
    voice = view.get("childs_voice") or {}
    for part in PARTS:
        views = voice.get(part)
        if views:
            filled[f"{part}_known"] = "yes" if views.get("known") else "no"
            filled[f"{part}_views"] = views.get("views") or ""
            filled[f"{part}_not_known_because"] = views.get("not_known_because") or ""
            filled[f"{part}_detail"] = views.get("detail") or ""
    return filled


def to_body(typed: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """What to add to the service's body, and the errors the page can see for itself (GOV.UK wording).

    A part left wholly blank adds nothing; a part begun must be finished (a scale for the analysis, an
    answer for each person's views)."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    statements = {name: typed[name] for name in STATEMENT_FIELDS if typed.get(name)}
    scale = typed.get("safety_scale", "")
    if statements or scale:
        if not scale:
            errors["safety_scale"] = "Select the safety scale, from 0 to 10"
        elif not scale.isdigit() or not 0 <= int(scale) <= 10:
            errors["safety_scale"] = "The safety scale must be a whole number from 0 to 10"
        else:
            body["risk_analysis"] = {**statements, "safety_scale": int(scale)}
    if any(typed.get(f"{part}_{name}") for part in PARTS for name in VOICE_INPUTS):
        voice: dict[str, Any] = {}
        for part, words in PARTS.items():
            known = typed.get(f"{part}_known", "")
            views = typed.get(f"{part}_views", "")
            reason = typed.get(f"{part}_not_known_because", "")
            detail = typed.get(f"{part}_detail", "")
            if known == "yes":
                if not views:
                    errors[f"{part}_views"] = f"Enter {words}"
                voice[part] = {"known": True, "views": views or None}
            elif known == "no":
                if not reason:
                    errors[f"{part}_not_known_because"] = f"Select why {words} are not known"
                voice[part] = {"known": False, "not_known_because": reason or None, "detail": detail or None}
            else:
                errors[f"{part}_known"] = f"Select whether {words} are known"
        body["childs_voice"] = voice
    if typed.get("risk_analysis_rationale"):
        body["risk_analysis_rationale"] = typed["risk_analysis_rationale"]
    return body, errors


def template_context() -> dict[str, Any]:
    """What the form and display partials need."""
    return {"analysis_columns": COLUMNS, "scale_meaning": SAFETY_SCALE_MEANING, "not_known_reasons": NOT_KNOWN,
            "voice_parts": PARTS, "not_known_wording": {value: text for value, text in NOT_KNOWN}}
