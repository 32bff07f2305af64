"""The committed JSON Schemas and AsyncAPI document are exactly what the contract models generate."""

from __future__ import annotations

from pathlib import Path

import pytest
from mash_schemas.catalogue import EVENTS
from mash_schemas.generate import DEFAULT_OUT, rendered_files

pytestmark = pytest.mark.unit


def test_committed_schemas_match_the_models() -> None:
    expected = rendered_files()
    committed = {path.name: path.read_text(encoding="utf-8") for path in Path(DEFAULT_OUT).glob("*.json")}
    stale = sorted(name for name in expected if committed.get(name) != expected[name])
    extra = sorted(set(committed) - set(expected))
    assert not stale and not extra, (
        f"schemas/json is out of date (changed: {stale}, no longer generated: {extra}); run `make schemas`"
    )


def test_every_event_has_a_schema_and_a_channel() -> None:
    files = rendered_files()
    for event_type in EVENTS:
        assert f"{event_type}.schema.json" in files
        assert event_type in files["asyncapi.json"]
