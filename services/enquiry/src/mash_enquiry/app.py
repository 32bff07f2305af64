"""The enquiry service as an ASGI app (what `python -m mash_enquiry` and uvicorn serve)."""

from __future__ import annotations

from fastapi import FastAPI

from mash_enquiry.bootstrap import bootstrap
from mash_enquiry.settings import EnquirySettings


def create_app(settings: EnquirySettings | None = None) -> FastAPI:
    """The enquiry service with its real parts; its lifespan runs consumers, the sweep and the relay."""
    return bootstrap(settings or EnquirySettings()).app
