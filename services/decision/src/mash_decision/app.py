"""The decision service as an ASGI app (what `python -m mash_decision` and uvicorn serve)."""

from __future__ import annotations

from fastapi import FastAPI

from mash_decision.bootstrap import bootstrap
from mash_decision.settings import DecisionSettings


def create_app(settings: DecisionSettings | None = None) -> FastAPI:
    """The decision service with its real parts; its lifespan runs consumers, the clock and the relay."""
    return bootstrap(settings or DecisionSettings()).app
