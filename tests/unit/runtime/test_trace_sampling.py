"""MASH_TRACE_SAMPLE_RATIO: the share of new traces a service records (ParentBased(TraceIdRatioBased)); a span
whose parent was recorded, or not, elsewhere follows that choice, so a referral's trace is whole or absent.
MASH_TRACE_STORE_COMMANDS: whether every MongoDB command gets a span."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mash_runtime.settings import HubSettings
from mash_runtime.telemetry import setup_tracing
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

pytestmark = pytest.mark.unit


def settings(ratio: float | None, trace_file: Path) -> HubSettings:
    if ratio is None:
        return HubSettings(environment="test", service_name="sampled", trace_file=trace_file)
    return HubSettings(environment="test", service_name="sampled", trace_file=trace_file, trace_sample_ratio=ratio)


def spans(trace_file: Path) -> list[str]:
    return [json.loads(line)["name"] for line in trace_file.read_text().splitlines()] if trace_file.exists() else []


def test_by_default_every_trace_is_recorded(tmp_path: Path) -> None:
    provider = setup_tracing(settings(None, tmp_path / "spans.jsonl"))
    with provider.get_tracer("t").start_as_current_span("request"):
        pass
    provider.shutdown()

    assert spans(tmp_path / "spans.jsonl") == ["request"]


def test_at_ratio_0_a_new_trace_is_not_recorded_but_a_recorded_callers_trace_is(tmp_path: Path) -> None:
    provider = setup_tracing(settings(0.0, tmp_path / "spans.jsonl"))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("new trace") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid  # still propagated and logged
    caller = SpanContext(trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    with tracer.start_as_current_span("consumed", context=trace.set_span_in_context(NonRecordingSpan(caller))):
        pass
    provider.shutdown()

    assert spans(tmp_path / "spans.jsonl") == ["consumed"]


def test_a_ratio_outside_0_to_1_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="trace_sample_ratio"):
        settings(1.5, tmp_path / "spans.jsonl")


_RUNTIME_IN_A_FRESH_PROCESS = """
import sys
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

settings = HubSettings(environment="test", service_name="probe", trace_store_commands=sys.argv[1] == "on")
ServiceRuntime(settings, database=as_database(MemoryDatabase()))
print(PymongoInstrumentor().is_instrumented_by_opentelemetry)
"""


@pytest.mark.parametrize(("setting", "instrumented"), [("on", "True"), ("off", "False")])
def test_store_commands_are_traced_only_when_the_setting_says(setting: str, instrumented: str) -> None:
    # In a fresh process: PyMongo's instrumentation is global to a process, and this one's other tests set it.
    ran = subprocess.run([sys.executable, "-c", _RUNTIME_IN_A_FRESH_PROCESS, setting],
                         capture_output=True, text=True, timeout=60, check=True)
    assert ran.stdout.strip().splitlines()[-1] == instrumented
