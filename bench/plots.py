"""The benchmark's figures as PNGs: throughput over time and latency CDFs, of one run or several side by side.

    python -m bench.plots docs/benchmark/before.json docs/benchmark/after.json
    # writes compare-*.png next to the first file, and prints the runs' figures side by side (Markdown)

matplotlib draws off-screen (Agg); nothing here needs a display.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after the backend is chosen

Result = dict[str, Any]


def _per_second(moments: list[float]) -> tuple[list[float], list[float]]:
    """Counts in one-second bins: (bin start, events in it)."""
    if not moments:
        return [], []
    bins = [0] * (int(max(moments)) + 1)
    for moment in moments:
        bins[int(moment)] += 1
    return [float(n) for n in range(len(bins))], [float(count) for count in bins]


def _cdf(axis: Any, values_ms: list[float], label: str, style: str = "-") -> None:
    if not values_ms:
        return
    ordered = sorted(values_ms)
    axis.step(ordered, [(n + 1) / len(ordered) for n in range(len(ordered))], style, where="post", label=label)


def _case_file_moments(result: Result) -> list[float]:
    """When each case file was seen open (from the counting samples), seconds after the first POST."""
    moments: list[float] = []
    previous = 0
    for at, count in result["case_files"]["samples"]:
        moments += [at] * max(0, count - previous)
        previous = max(previous, count)
    return moments


def _throughput(axis: Any, result: Result, title: str) -> None:
    door = result["front_door"]
    x, y = _per_second(door["accepted_at"])
    axis.plot(x, y, drawstyle="steps-post", label="contacts accepted (202) /s")
    x, y = _per_second(_case_file_moments(result))
    axis.plot(x, y, drawstyle="steps-post", label="case files opened /s")
    axis.set_title(title)
    axis.set_xlabel("seconds after the first POST")
    axis.set_ylabel("per second")
    axis.legend(loc="upper right", fontsize="small")
    axis.grid(alpha=0.3)


def _latency(axis: Any, result: Result, title: str) -> None:
    national, saturation, transport = result["national"], result["saturation"], result["transport"]
    _cdf(axis, result["front_door"]["latencies"] and [v * 1000 for v in result["front_door"]["latencies"]],
         "front door: 202")
    _cdf(axis, [s["decision_ready"] * 1000 for s in national["samples"]], "national rate: decision-ready")
    _cdf(axis, [s["handed_off"] * 1000 for s in national["samples"]], "national rate: hand-off sent")
    _cdf(axis, [s["decision_ready"] * 1000 for s in saturation["samples"]], "saturation: decision-ready", "--")
    _cdf(axis, [s["handed_off"] * 1000 for s in saturation["samples"]], "saturation: hand-off sent", "--")
    _cdf(axis, [v * 1000 for v in transport["latencies"]], "bare transport: one message", ":")
    axis.set_xscale("log")
    axis.set_title(title)
    axis.set_xlabel("milliseconds (log scale)")
    axis.set_ylabel("fraction of contacts")
    axis.legend(loc="lower right", fontsize="small")
    axis.grid(alpha=0.3, which="both")


def plot_run(result: Result, out: Path) -> list[Path]:
    """One run's throughput-over-time and latency-CDF PNGs in `out`."""
    label = result["label"]
    paths = [out / f"throughput-{label}.png", out / f"latency-{label}.png"]
    for path, draw, title in ((paths[0], _throughput, "Front door and intake → case file at saturation"),
                              (paths[1], _latency, "Latency, cumulative")):
        figure, axis = plt.subplots(figsize=(8, 4.5))
        draw(axis, result, f"{title} ({label})")
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
    return paths


def plot_compare(results: list[Result], out: Path) -> list[Path]:
    """Several runs side by side, one column each, on shared axes."""
    paths = [out / "compare-throughput.png", out / "compare-latency.png"]
    for path, draw, title in ((paths[0], _throughput, "Throughput at saturation"),
                              (paths[1], _latency, "Latency, cumulative")):
        figure, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.5), sharey=True, sharex=True,
                                    squeeze=False)
        for axis, result in zip(axes[0], results, strict=True):
            draw(axis, result, f"{title}: {result['label']}")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
    return paths


def _row(label: str, values: list[str]) -> str:
    return "| " + " | ".join([label, *values]) + " |"


def side_by_side(results: list[Result]) -> str:
    """The headline figures of several runs as one Markdown table, a column per run."""

    def pct(block: dict[str, float]) -> str:
        return f"{block['p50']:,.0f} / {block['p95']:,.0f} / {block['p99']:,.0f} ms"

    def each(pick: Any) -> list[str]:
        return [pick(r) for r in results]

    rows = [
        _row("", [r["label"] for r in results]),
        _row("---", ["---"] * len(results)),
        _row("load average (1 min) before / after", each(lambda r: f"{r['load_before'].split(',')[0]} / "
                                                         f"{r['load_after'].split(',')[0]}")),
        _row("hub start", each(lambda r: f"{r['hub_start_seconds']:.0f} s")),
        _row("**front door** accepted/s", each(lambda r: f"{r['front_door']['accepted_per_second']:.1f}")),
        _row("front door 202 latency p50 / p95 / p99", each(lambda r: pct(r["front_door"]["latency_ms"]))),
        _row("**intake → case file** referrals/s", each(lambda r: f"{r['case_files']['per_second']:.1f}")),
        _row("**national rate**: contact → decision-ready p50 / p95 / p99",
             each(lambda r: pct(r["national"]["decision_ready_ms"]))),
        _row("national rate: contact → hand-off sent p50 / p95 / p99",
             each(lambda r: pct(r["national"]["handed_off_ms"]))),
        _row("**saturation** (all at once): contact → decision-ready p50 / p95 / p99",
             each(lambda r: pct(r["saturation"]["decision_ready_ms"]))),
        _row("saturation: contact → hand-off sent p50 / p95 / p99",
             each(lambda r: pct(r["saturation"]["handed_off_ms"]))),
        _row("saturation: full cycles/s", each(lambda r: f"{r['saturation']['cycles_per_second']:.2f}")),
        _row("services' CPU per event, full cycle", each(lambda r: f"{r['cpu_per_event_ms']['saturation']:.2f} ms")),
        _row("**bare transport** msg/s (same run)", each(lambda r: f"{r['transport']['per_second']:,.0f}")),
        _row("bare transport CPU per message", each(lambda r: f"{r['transport']['cpu_ms_per_message']:.3f} ms")),
        _row("bare transport one message p50 / p95 / p99", each(lambda r: pct(r["transport"]["latency_ms"]))),
        _row("intake → case file ÷ transport", each(
            lambda r: f"{r['case_files']['per_second'] / r['transport']['per_second']:.4f}")),
        _row("CPU per event ÷ transport CPU per message", each(
            lambda r: f"{r['cpu_per_event_ms']['saturation'] / r['transport']['cpu_ms_per_message']:.0f}x")),
    ]
    nan = float("nan")
    for service in results[0]["saturation"]["cpu_per_contact"]:
        rows.append(_row(f"CPU per contact, full cycle: {service}", each(
            lambda r, s=service: f"{r['saturation']['cpu_per_contact'].get(s, nan) * 1000:.0f} ms")))
    for service in results[0]["rss_mib"]:
        rows.append(_row(f"RSS: {service}", each(lambda r, s=service: f"{r['rss_mib'].get(s, nan):.0f} MiB")))
    return "\n".join(rows)


def main() -> None:
    """Draw the runs named on the command line side by side, next to the first one's file; print their figures."""
    files = [Path(arg) for arg in sys.argv[1:]]
    if not files:
        raise SystemExit("usage: python -m bench.plots RUN.json [RUN.json ...]")
    results = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    for path in plot_compare(results, files[0].parent):
        print(f"wrote {path}")
    print(side_by_side(results))


if __name__ == "__main__":
    main()
