"""Insight as an ASGI app (what uvicorn and tests load); the wiring is in mash_insight.bootstrap."""

from __future__ import annotations

from fastapi import FastAPI

from mash_insight.bootstrap import bootstrap
from mash_insight.settings import InsightSettings


def create_app(settings: InsightSettings | None = None) -> FastAPI:
    """Insight as an ASGI app; its lifespan runs the consumers that keep the facts."""
    return bootstrap(settings or InsightSettings()).app
