"""A clock the browser tests can move: the real time plus the seconds written in a file (tests only).

The idle and absolute limits of a session are measured with the workspace's clock (mash_workspace.session).
Unit tests inject a FixedClock; a browser test drives the workspace as a separate process, so it moves that
process's clock by writing seconds into the file named by MASH_WORKSPACE_TEST_CLOCK_OFFSET_FILE, which only
the test hub sets (tests/browser/conftest.py). It can never move a deployment's clock: the setting is refused
when MASH_ENVIRONMENT is production (mash_workspace.settings), no deployment sets it (a unit test reads every
compose file and the Helm chart to be sure), and without it the workspace runs on `utc_now`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from mash_runtime.clock import Clock, utc_now


class FileOffsetClock:
    """`utc_now()` plus the number of seconds in `path` (read at every call; a missing or empty file is 0)."""

    def __init__(self, path: Path, now: Clock = utc_now) -> None:
        self._path = path
        self._now = now

    def offset(self) -> timedelta:
        """The offset the file holds now."""
        try:
            text = self._path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return timedelta()
        return timedelta(seconds=float(text)) if text else timedelta()

    def __call__(self) -> datetime:
        return self._now() + self.offset()
