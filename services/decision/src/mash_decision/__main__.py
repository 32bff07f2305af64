"""Run the decision service: `python -m mash_decision`."""

from __future__ import annotations

from mash_runtime.service import serve

from mash_decision.app import create_app
from mash_decision.settings import DecisionSettings


def main() -> None:
    """Serve the desk and run the consumers and the clock."""
    settings = DecisionSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
