"""Notify as an ASGI app (what uvicorn and tests load); the wiring is in mash_notify.bootstrap."""

from __future__ import annotations

from fastapi import FastAPI

from mash_notify.bootstrap import bootstrap
from mash_notify.settings import NotifySettings


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    """Notify as an ASGI app; its lifespan runs the consumer, the delivery worker and the relay."""
    return bootstrap(settings or NotifySettings()).app
