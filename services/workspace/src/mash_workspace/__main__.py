"""Run the workspace (`python -m mash_workspace`)."""

from __future__ import annotations

from mash_runtime.clock import utc_now
from mash_runtime.service import serve

from mash_workspace.app import create_app
from mash_workspace.moved_clock import FileOffsetClock
from mash_workspace.settings import WorkspaceSettings


def main() -> None:
    """Serve the pages on the configured address (loopback by default)."""
    settings = WorkspaceSettings()
    # Only a test hub names an offset file (refused in production): the browser tests' moved clock.
    offset = settings.test_clock_offset_file
    serve(create_app(settings, clock=FileOffsetClock(offset) if offset is not None else utc_now), settings)


if __name__ == "__main__":
    main()
