"""Run insight: `python -m mash_insight`."""

from __future__ import annotations

from mash_runtime.service import serve

from mash_insight.app import create_app
from mash_insight.settings import InsightSettings


def main() -> None:
    """Serve the figures and run the consumers that keep the facts."""
    settings = InsightSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
