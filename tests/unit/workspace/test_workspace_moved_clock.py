"""The workspace's moved clock is for tests only (issue 22, item 1's idle limit in a browser).

A browser test moves the workspace process's clock by writing seconds into the file that
MASH_WORKSPACE_TEST_CLOCK_OFFSET_FILE names. These tests pin down that the clock does what the browser test
needs, that production refuses the setting, and that no shipped deployment sets it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mash_runtime.clock import FixedClock
from mash_workspace.moved_clock import FileOffsetClock
from mash_workspace.settings import WorkspaceSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
SETTING = "TEST_CLOCK_OFFSET_FILE"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_clock_is_the_time_plus_the_seconds_in_the_file(tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    clock = FileOffsetClock(offset, now=FixedClock(START))
    assert clock() == START, "no file: the real time"
    offset.write_text("1860\n")
    assert clock() == START + timedelta(minutes=31)
    offset.write_text("")
    assert clock() == START


def test_production_refuses_a_moved_clock(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="tests only"):
        WorkspaceSettings(environment="production", oidc_issuer="https://idp.example",
                          session_key="cHJvZHVjdGlvbi13b3Jrc3BhY2Uta2V5LTAwMDAwMDA=",
                          oidc_client_secret="a-real-secret", jwt_secret="x" * 40,
                          sealing_keys="cHJvZHVjdGlvbi1zZWFsaW5nLWtleS0wMDAwMDAwMDA=",
                          test_clock_offset_file=tmp_path / "offset")


def _deployments() -> list[Path]:
    found = [*REPO.glob("docker-compose*.yml"), *(REPO / "deploy").rglob("*")]
    return [path for path in found if path.is_file() and path.suffix in (".yml", ".yaml", ".tpl", ".py", ".json")]


def test_no_shipped_deployment_sets_the_moved_clock() -> None:
    deployments = _deployments()
    assert any(path.name == "values.yaml" for path in deployments) and any(
        path.name == "docker-compose.yml" for path in deployments), "the search must see the chart and compose"
    setting = SETTING.lower()
    setting_in = [path for path in deployments if SETTING in path.read_text(encoding="utf-8", errors="replace")
                  or setting in path.read_text(encoding="utf-8", errors="replace")
                  or "testClockOffset" in path.read_text(encoding="utf-8", errors="replace")]
    assert setting_in == []


def test_the_search_finds_the_setting_where_it_is_set() -> None:
    # The browser tests' hub sets it: the same search finds it there, so an empty answer above means something.
    assert SETTING in (REPO / "tests" / "browser" / "conftest.py").read_text(encoding="utf-8")
