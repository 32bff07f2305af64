"""Small measuring tools: percentiles, a progress bar, and CPU and memory of a process from /proc."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank); NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident set size now, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, as `uptime` shows them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


class Progress:
    """A one-line progress bar on stderr: what is being done, how far, how long so far."""

    WIDTH = 30

    def __init__(self) -> None:
        self._label = ""
        self._total = 1
        self._started = time.perf_counter()
        self._last_drawn = 0.0
        self._tty = sys.stderr.isatty()

    def stage(self, label: str, total: int) -> None:
        """Start a new bar."""
        self.finish()
        self._label, self._total, self._started, self._last_drawn = label, max(total, 1), time.perf_counter(), 0.0
        self.update(0, force=True)

    def update(self, done: int, *, force: bool = False) -> None:
        """Redraw with `done` of the stage's total (at most ten times a second)."""
        now = time.perf_counter()
        if not force and now - self._last_drawn < 0.1:
            return
        self._last_drawn = now
        filled = min(self.WIDTH, self.WIDTH * done // self._total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"{self._label:<34} [{bar}] {done}/{self._total} {now - self._started:6.1f}s"
        if self._tty:
            sys.stderr.write("\r" + line)
        elif force or done >= self._total:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        """End the current bar's line."""
        if self._label and self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self._label = ""
