"""One rule for text in the contract, so that no service and no page can disagree about what text is.

Every string a person types (a name, a reason, a narrative) is stripped of surrounding blanks (the no-break
space included) and must not be empty after stripping; NUL, the other C0 and C1 control characters and lone
surrogates are refused, because they are never meant, break logs and downstream systems, and a NUL stored
in a case file is a trap for whoever exports it. Free text (a narrative, a rationale, a note) may hold line
breaks and tabs, which a textarea sends, with Windows line ends made plain. Right-to-left and other
format characters are letters of real languages and pass.

A service that checked a length before stripping and a model that stripped after (decision's subject access
request) answered a whitespace-only name with a 500; one type, used by every request model and by the
workspace's forms, makes that disagreement impossible.

The error messages follow the GOV.UK Design System's pattern (say what to do, not what went wrong in code
terms); `public_message` turns any of them, and pydantic's own length messages, into the sentence a person
sees beside the field.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

# C0 and C1 controls (DEL included) and lone surrogates; free text keeps tab and line ends (CR is made LF).
_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FREE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Published in JSON Schema (ECMAScript regex): one character that is neither blank nor forbidden.
_LINE_CLASS = r"\x00-\x1f\x7f-\x9f"
_FREE_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"

# The identifiers the services hand out (MASH-…, POL-<force>-<id>, ENQ-…, SAR-…, SAR-…:agency:item): letters,
# digits and a little punctuation, never a blank, a control character, a slash or a percent sign. A path
# parameter is checked against it where it arrives (the workspace's pages, a service's routes).
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,199}$"

CONTROL_ERROR = "text_control_character"
CONTROL_MESSAGE = "must only include letters, numbers, spaces and punctuation"
FREE_CONTROL_MESSAGE = "must only include letters, numbers, spaces, punctuation and line breaks"


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character the rule refuses in `value`, or None: for forms that check before sending."""
    found = (_FREE_FORBIDDEN if multiline else _LINE_FORBIDDEN).search(value)
    return found.group() if found else None


def _refuse_line_controls(value: str) -> str:
    if forbidden_character(value) is not None:
        raise PydanticCustomError(CONTROL_ERROR, CONTROL_MESSAGE)
    return value


def _refuse_free_controls(value: str) -> str:
    if forbidden_character(value, multiline=True) is not None:
        raise PydanticCustomError(CONTROL_ERROR, FREE_CONTROL_MESSAGE)
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _length(least: int, most: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=least, max_length=most)


def _published(least: int, most: int, *, multiline: bool) -> WithJsonSchema:
    # What a client may send: the length after stripping, and one character that is neither blank nor refused.
    refused = _FREE_CLASS if multiline else _LINE_CLASS
    return WithJsonSchema({"type": "string", "minLength": least, "maxLength": most,
                           "pattern": rf"^[^{refused}]*[^\s{refused}][^{refused}]*$"})


_LINE = AfterValidator(_refuse_line_controls)
_FREE = AfterValidator(_refuse_free_controls)

# One line (a name, a reference, a short reason): what a text input sends.
ShortText = Annotated[str, _length(1, 200), _LINE, _published(1, 200, multiline=False)]
Reason = Annotated[str, _length(3, 500), _LINE, _published(3, 500, multiline=False)]
LongLine = Annotated[str, _length(1, 1_000), _LINE, _published(1, 1_000, multiline=False)]
# Free text (a rationale, a note, a narrative): what a textarea sends, line breaks and tabs kept.
Note = Annotated[str, _length(1, 1_000), _FREE, _published(1, 1_000, multiline=True)]
# A note that says something: three characters at least (a legal hold's reason).
Note3 = Annotated[str, _length(3, 1_000), _FREE, _published(3, 1_000, multiline=True)]
ItemText = Annotated[str, _length(1, 5_000), _FREE, _published(1, 5_000, multiline=True)]
Rationale = Annotated[str, _length(1, 10_000), _FREE, _published(1, 10_000, multiline=True)]
Narrative = Annotated[str, _length(1, 20_000), _FREE, _published(1, 20_000, multiline=True)]


_AT_MOST = re.compile(r"at most ([0-9]+) characters?")
_AT_LEAST = re.compile(r"at least ([0-9]+) characters?")


def public_message(label: str, message: str) -> str:
    """A service's message about a text field as a person should read it (GOV.UK error message patterns).

    `label` is the field as the page names it, in sentence case ("Your name"). Unknown messages pass
    unchanged: they were written for people already.
    """
    if message in (CONTROL_MESSAGE, FREE_CONTROL_MESSAGE):
        return f"{label} {message}"
    if (found := _AT_MOST.search(message)) is not None:
        return f"{label} must be {int(found.group(1)):,} characters or fewer"
    if (found := _AT_LEAST.search(message)) is not None:
        least = int(found.group(1))
        return f"Enter {label[0].lower()}{label[1:]}" if least <= 1 else (
            f"{label} must be {least:,} characters or more")
    if message.startswith("Field required"):
        return f"Enter {label[0].lower()}{label[1:]}"
    return message
