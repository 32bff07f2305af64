"""One rule for text in the contract (issue 22, item 4): stripped, never blank, no control characters.

Each case is a value a person or an attacker has sent: a whitespace-only or no-break-space name (decision
answered 500), a NUL in a narrative (intake stored it), a carriage return from a textarea, right-to-left text.
"""

from __future__ import annotations

from typing import Any

import pytest
from mash_schemas.common import Subject
from mash_schemas.referral import Concern
from mash_schemas.text import Narrative, Reason, ShortText, forbidden_character, public_message
from pydantic import TypeAdapter, ValidationError

pytestmark = pytest.mark.unit


def refusal(kind: Any, value: str) -> str:
    """The error type pydantic gives for `value`; the test fails if the value is accepted."""
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value)
    return str(refused.value.errors()[0]["type"])


@pytest.mark.parametrize("blank", [" ", "\u00a0", " \u00a0\t", "\u2003", "\u3000"])
def test_a_blank_line_is_empty_after_stripping(blank: str) -> None:
    assert refusal(ShortText, blank) == "string_too_short"
    assert refusal(Narrative, blank) == "string_too_short"


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused_inside_text(control: str) -> None:
    # pydantic itself refuses a lone surrogate (string_unicode) before the rule sees it: refused either way.
    assert refusal(ShortText, f"Ev{control}ans") in ("text_control_character", "string_unicode")
    assert refusal(Narrative, f"Hungry{control} at school") in ("text_control_character", "string_unicode")


def test_a_line_refuses_line_breaks_and_free_text_keeps_them_with_plain_line_ends() -> None:
    assert refusal(ShortText, "Evans\nSmith") == "text_control_character"
    assert TypeAdapter(Narrative).validate_python("  Hungry.\r\nTired.\rCold.\tAlone.  ") == (
        "Hungry.\nTired.\nCold.\tAlone.")


def test_right_to_left_and_other_scripts_are_text() -> None:
    for value in ("\u202eevil.exe", "نور", "Zoë O'Brien-Łukasz", "子供"):
        assert TypeAdapter(ShortText).validate_python(f" {value} ") == value


def test_the_published_schema_says_the_same() -> None:
    import re

    pattern = re.compile(TypeAdapter(ShortText).json_schema()["pattern"])
    assert pattern.search("Evans") and not pattern.search("Ev\x00ans") and not pattern.search("   ")
    free = re.compile(TypeAdapter(Narrative).json_schema()["pattern"])
    assert free.search("a\nb\tc") and not free.search("a\x00")


def test_contract_models_use_the_rule() -> None:
    with pytest.raises(ValidationError):
        Subject(subject_id="S1", kind="child", family_name="Ev\x00ans")
    with pytest.raises(ValidationError):
        Concern(categories=["neglect"], narrative="Hungry\x00")
    with pytest.raises(ValidationError):
        Concern(categories=["neglect"], narrative="Hungry", actions_taken="Rang\x00")
    assert refusal(Reason, "ok") == "string_too_short"


def test_forbidden_character_names_what_a_form_must_refuse() -> None:
    assert forbidden_character("a\x00b") == "\x00"
    assert forbidden_character("a\nb") == "\n"
    assert forbidden_character("a\r\nb\tc", multiline=True) is None


@pytest.mark.parametrize(("message", "public"), [
    ("String should have at most 20000 characters", "What happened must be 20,000 characters or fewer"),
    ("String should have at least 1 character", "Enter what happened"),
    ("String should have at least 3 characters", "What happened must be 3 characters or more"),
    ("must only include letters, numbers, spaces, punctuation and line breaks",
     "What happened must only include letters, numbers, spaces, punctuation and line breaks"),
    ("Field required", "Enter what happened"),
])
def test_public_wording_follows_the_govuk_patterns(message: str, public: str) -> None:
    assert public_message("What happened", message) == public
