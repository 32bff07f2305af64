"""Run the workspace (`python -m mash_workspace`)."""

from __future__ import annotations

from mash_runtime.service import serve

from mash_workspace.app import create_app
from mash_workspace.settings import WorkspaceSettings


def main() -> None:
    """Serve the pages on the configured address (loopback by default)."""
    settings = WorkspaceSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
