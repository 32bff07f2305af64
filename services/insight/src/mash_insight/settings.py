"""Insight's settings (prefix MASH_INSIGHT_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path

from mash_runtime.settings import HubSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class InsightSettings(HubSettings):
    """The hub's timescales (the same file as decision's), the rising-concern rule, and the read models' generation."""

    model_config = SettingsConfigDict(env_prefix="MASH_INSIGHT_", extra="ignore")

    service_name: str = "insight"
    mongo_database: str = "mash_insight"
    http_port: int = 8005
    timescales_file: Path | None = Field(
        None, description="The hub's timescales: give insight the file decision uses (packaged default otherwise)."
    )
    rising_concern_file: Path | None = Field(None, description="The rising-concern rule as YAML; packaged default.")
    generation: str = Field(
        "1",
        pattern=r"^[a-z0-9-]{1,16}$",
        description="Part of every consumer group's name (insight.<generation>.<what>). To rebuild the read "
        "models, drop insight's database and start with a new generation: the new groups read every topic "
        "from its earliest offset.",
    )
