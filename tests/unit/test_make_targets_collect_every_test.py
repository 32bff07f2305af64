"""Every test file lies in a folder that one of `make test`'s pytest runs collects.

The Makefile gives each pytest run the folders it collects (UNIT_PATHS, STACK_PATHS, FAULT_PATHS, CHART_PATHS), so
that no process imports the modules its marker would deselect. A test file in a new folder outside them would be
run by nothing, silently; this fails instead. (tests/conftest.py checks the other half at collection: a test's
markers agree with its folder.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def paths(variable: str) -> list[str]:
    """The folders a Makefile variable (`NAME := a b`) lists."""
    found = re.search(rf"^{variable} :?= (.+)$", MAKEFILE, flags=re.MULTILINE)
    assert found is not None, f"the Makefile sets no {variable}"
    return found.group(1).split()


def test_every_test_file_is_in_a_folder_a_make_target_collects() -> None:
    collected = [*paths("UNIT_PATHS"), *paths("STACK_PATHS"), *paths("FAULT_PATHS")]
    files = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("test_*.py"))
    assert files, "no test files found"
    orphans = [file for file in files if not any(file.startswith(folder + "/") for folder in collected)]
    assert orphans == []


def test_the_chart_tests_are_collected_by_the_unit_run_too() -> None:
    """`make test-unit` runs every unit test, the chart's included."""
    unit = paths("UNIT_PATHS")
    assert all(any(chart.startswith(folder) for folder in unit) for chart in paths("CHART_PATHS"))
