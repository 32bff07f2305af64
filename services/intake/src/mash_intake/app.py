"""Intake as an ASGI app (what uvicorn and tests load); the wiring is in mash_intake.bootstrap."""

from __future__ import annotations

from fastapi import FastAPI

from mash_intake.bootstrap import bootstrap
from mash_intake.settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """The intake service as an ASGI app; its lifespan runs the consumers and the outbox relay."""
    return bootstrap(settings or IntakeSettings()).app
