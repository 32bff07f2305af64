"""The mash-agency command line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mash_agency.cli import _parser, main, settings_from

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MASH_AGENCY_NAME", "MASH_AGENCY_RESPONSE_DELAY", "MASH_AGENCY_NEVER_ANSWER"):
        monkeypatch.delenv(name, raising=False)


def test_run_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_AGENCY_NAME", "police")
    args = _parser().parse_args(
        ["run", "--agency", "health", "--delay", "0.5-2.0", "--never-answer", "--namespace", "ns", "--workers", "2"]
    )

    settings = settings_from(args)

    assert settings.name == "health"
    assert settings.response_delay == (0.5, 2.0)
    assert settings.never_answer is True
    assert settings.request_topic == "ns.mash.enquiry.request.health"
    assert settings.workers == 2


def test_the_environment_fills_what_the_command_line_leaves_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_AGENCY_NAME", "probation")

    settings = settings_from(_parser().parse_args(["run"]))

    assert settings.name == "probation"
    assert settings.never_answer is False


def test_run_with_a_bad_delay_stops_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--agency", "health", "--delay", "2-1"]) == 2
    assert "response delay" in capsys.readouterr().err


def test_run_with_an_unknown_adapter_stops_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--agency", "health", "--adapter", "nowhere_at_all:Adapter"]) == 2
    assert "nowhere_at_all" in capsys.readouterr().err


def test_records_prints_the_simulated_records(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "--agency", "probation"]) == 0

    out = capsys.readouterr().out
    assert "prob-s1-turner" in out
    assert "due for release" in out


def test_records_of_an_agency_without_any(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "--agency", "adult-social-care"]) == 0
    assert "nothing known" in capsys.readouterr().out


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mash_agency", "records", "--agency", "housing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "hsg-s2-reid" in done.stdout
