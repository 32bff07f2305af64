"""Tracing: one trace follows a referral across services, through Kafka headers and the outbox.

Spans go to a JSON-lines file (native stack, tests) and/or an OTLP collector (docker-compose).
Span attributes never carry case content: only ids, topics and counts.

Which traces are recorded is OpenTelemetry's `ParentBased(TraceIdRatioBased(MASH_TRACE_SAMPLE_RATIO))`:
a trace that starts here (a request, a sweep) is recorded for that share of trace ids, and every later
span follows its parent's choice, carried in the traceparent across Kafka and the outbox, so a referral's
trace is recorded whole in every service or not at all. The default, 1.0, records everything; a span not
recorded costs next to nothing, while its trace id is still propagated and logged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from mash_runtime.settings import HubSettings


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one JSON line: easy to read back in tests and by hand."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            for span in spans:
                self._file.write(json.dumps(_span_record(span)) + "\n")
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._file.close()


def _span_record(span: ReadableSpan) -> dict[str, object]:
    """The fields worth keeping, as plain JSON (attributes may be bytes, e.g. a Kafka key)."""
    context = span.get_span_context()
    return {
        "name": span.name,
        "context": {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
        if context is not None else {},
        "parent_id": f"{span.parent.span_id:016x}" if span.parent is not None else None,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "start_time": span.start_time,
        "end_time": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {key: _plain(value) for key, value in (span.attributes or {}).items()},
    }


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)


def setup_tracing(settings: HubSettings) -> TracerProvider:
    """Install a tracer provider named after the service, exporting where the settings say."""
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}),
                              sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)))
    if settings.trace_file is not None:
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(settings.trace_file)))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, if any."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    """The active trace id as 32 hex digits, if a span is recording."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
