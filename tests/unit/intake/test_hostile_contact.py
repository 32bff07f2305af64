"""Hostile text on intake's contact form (issue 22, defect 5): NUL and other controls are refused, not stored.

The real routes and error handlers over ASGI, with the fake front door of the property tests: a contact
that reaches it was accepted, so "not accepted" is seen directly.
"""

from __future__ import annotations

import pytest

from tests.unit.intake.intake_builders import submission_payload
from tests.unit.intake.test_intake_http_properties import FRONT_DOOR, assert_client_error, call

pytestmark = pytest.mark.unit


def with_(path: str, value: str) -> dict[str, object]:
    """A valid contact with `value` at `path` (dotted, list indices as numbers)."""
    payload = submission_payload()
    *parents, last = path.split(".")
    here: object = payload
    for part in parents:
        here = here[int(part)] if isinstance(here, list) else here[part]  # type: ignore[index]
    if isinstance(here, list):
        here[int(last)] = value
    else:
        here[last] = value  # type: ignore[index]
    return payload


@pytest.mark.parametrize("path", ["concern.narrative", "referrer.name", "subjects.0.family_name",
                                  "concern.actions_taken", "consent.reason"])
@pytest.mark.parametrize("hostile", ["Hungry\x00", "Hungry\x1b[31m", "\x7fHungry", "Hun\x85gry"])
def test_a_control_character_is_refused_naming_the_field(path: str, hostile: str) -> None:
    before = len(FRONT_DOOR.accepted)
    response = call("POST", "/contacts", json=with_(path, hostile))
    body = assert_client_error(response)
    assert response.status_code == 422
    assert path in [entry["field"] for entry in body["fields"]]
    assert len(FRONT_DOOR.accepted) == before


def test_line_breaks_and_tabs_in_the_narrative_are_kept() -> None:
    response = call("POST", "/contacts", json=with_("concern.narrative", "Hungry.\r\n\tTired."))
    assert response.status_code == 202, response.text
    assert FRONT_DOOR.accepted[-1].concern.narrative == "Hungry.\n\tTired."


@pytest.mark.parametrize("blank", [" ", "\u00a0", "\u2003\t"])
def test_a_blank_name_is_refused_naming_the_field(blank: str) -> None:
    body = assert_client_error(call("POST", "/contacts", json=with_("referrer.name", blank)))
    assert "referrer.name" in [entry["field"] for entry in body["fields"]]
