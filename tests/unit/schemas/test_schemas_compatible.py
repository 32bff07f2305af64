"""The generated schemas stay compatible with the released contract, and the check catches what breaks it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from mash_schemas.compatibility import JSON_DIR, RELEASED_DIR, breaking_changes, load_schemas, main
from mash_schemas.generate import event_schemas

pytestmark = pytest.mark.unit


def released() -> dict[str, dict[str, Any]]:
    return load_schemas(RELEASED_DIR)


def test_the_generated_schemas_are_compatible_with_the_released_contract() -> None:
    assert RELEASED_DIR.is_dir() and released(), "no released contract in schemas/json/released"
    problems = breaking_changes(released(), event_schemas())
    assert not problems, "\n".join(problems)


def test_the_committed_schemas_pass_the_command_line_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--released", str(RELEASED_DIR), "--current", str(JSON_DIR)]) == 0
    assert "compatible" in capsys.readouterr().out


def test_a_removed_field_fails() -> None:
    current = copy.deepcopy(released())
    del current["decision.made"]["$defs"]["Decision"]["properties"]["rationale"]
    assert breaking_changes(released(), current) == ["decision.made.payload.rationale: the field was removed"]


def test_a_removed_envelope_field_and_a_removed_event_fail() -> None:
    current = copy.deepcopy(released())
    del current["referral.amended"]["properties"]["causation_id"]
    del current["case.timescale"]
    assert breaking_changes(released(), current) == [
        "case.timescale: the event was removed",
        "referral.amended.causation_id: the field was removed",
    ]


def test_a_newly_required_field_fails() -> None:
    current = copy.deepcopy(released())
    assert "causation_id" not in current["referral.amended"]["required"]
    current["referral.amended"]["required"].append("causation_id")
    assert breaking_changes(released(), current) == ["referral.amended.causation_id: the field is newly required"]


def test_a_new_required_field_fails_and_a_new_optional_one_passes() -> None:
    added = copy.deepcopy(released())
    added["case.timescale"]["$defs"]["TimescaleAlert"]["properties"]["team"] = {"type": "string"}
    assert breaking_changes(released(), added) == []
    added["case.timescale"]["$defs"]["TimescaleAlert"]["required"].append("team")
    assert breaking_changes(released(), added) == ["case.timescale.payload.team: the field is newly required"]


def test_a_narrowed_type_or_enumeration_fails_and_a_widened_one_passes() -> None:
    narrowed = copy.deepcopy(released())
    alert = narrowed["case.timescale"]["$defs"]["TimescaleAlert"]["properties"]
    alert["working_minutes_left"] = {"type": "string"}
    narrowed["case.timescale"]["$defs"]["BragRating"]["enum"].remove("blue")
    assert breaking_changes(released(), narrowed) == [
        "case.timescale.payload.rating: values narrowed (no longer accepts \"blue\")",
        "case.timescale.payload.working_minutes_left: type narrowed (no longer accepts integer)",
    ]
    widened = copy.deepcopy(released())
    widened["case.timescale"]["$defs"]["TimescaleAlert"]["properties"]["working_minutes_left"] = {
        "type": ["integer", "null"]}
    widened["case.timescale"]["$defs"]["BragRating"]["enum"].append("purple")
    assert breaking_changes(released(), widened) == []


def test_the_command_line_fails_on_a_breaking_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current = tmp_path / "current"
    current.mkdir()
    for name, schema in released().items():
        if name == "decision.made":
            del schema["$defs"]["Decision"]["properties"]["rationale"]
        (current / f"{name}.schema.json").write_text(json.dumps(schema), encoding="utf-8")

    assert main(["--released", str(RELEASED_DIR), "--current", str(current)]) == 1
    assert "breaking: decision.made.payload.rationale: the field was removed" in capsys.readouterr().out


def test_cutting_a_release_copies_the_current_schemas(tmp_path: Path) -> None:
    assert main(["--cut-release", "--current", str(JSON_DIR), "--released", str(tmp_path)]) == 0
    assert load_schemas(tmp_path) == load_schemas(JSON_DIR)
