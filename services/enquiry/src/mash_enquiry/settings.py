"""The enquiry service's settings (prefix MASH_ENQUIRY_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path

from mash_runtime.settings import HubSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class EnquirySettings(HubSettings):
    """Where the agency directory comes from and how often the deadline sweeper looks."""

    model_config = SettingsConfigDict(env_prefix="MASH_ENQUIRY_", extra="ignore")

    service_name: str = "enquiry"
    mongo_database: str = "mash_enquiry"
    http_port: int = 8003
    agencies_file: Path | None = Field(None, description="The hub's partner agencies; packaged default.")
    sweep_seconds: float = Field(1.0, gt=0, description="How often reminders and due times are checked.")
