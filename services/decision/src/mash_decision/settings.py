"""The decision service's settings (prefix MASH_DECISION_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path

from mash_runtime.settings import HubSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class DecisionSettings(HubSettings):
    """The hub's timescales and recommendation rules, routing, and how often the clock is watched."""

    model_config = SettingsConfigDict(env_prefix="MASH_DECISION_", extra="ignore")

    service_name: str = "decision"
    mongo_database: str = "mash_decision"
    http_port: int = 8002
    timescales_file: Path | None = Field(None, description="Targets per rating and working hours; packaged default.")
    recommendation_file: Path | None = Field(None, description="Escalation and outcome rules; packaged default.")
    route_allocated_automatically: bool = Field(
        True, description="Send a contact about a child with an allocated social worker straight to that worker."
    )
    clock_check_seconds: float = Field(30.0, gt=0, description="How often near-breaches and breaches are checked.")
