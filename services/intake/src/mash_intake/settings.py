"""Intake's settings (prefix MASH_INTAKE_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path

from mash_runtime.settings import HubSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class IntakeSettings(HubSettings):
    """Where the hub's rule tables and register come from, and the front door's limits."""

    model_config = SettingsConfigDict(env_prefix="MASH_INTAKE_", extra="ignore")

    service_name: str = "intake"
    mongo_database: str = "mash_intake"
    http_port: int = 8001
    register_file: Path | None = Field(None, description="Known-people export (CSV or JSON) imported at start.")
    level_of_needs_file: Path | None = Field(None, description="The hub's Level of Needs table; packaged default.")
    triage_file: Path | None = Field(None, description="The hub's police triage rules; packaged default.")
    lawful_basis_file: Path | None = Field(
        None, description="The lawful basis recorded on every contact (YAML); packaged default: public task.")
    region_file: Path | None = Field(
        None, description="The region (MASH_REGION_FILE): which hub this is, so a transfer meant for another hub "
        "is refused; unset = a single hub.",
    )
    linking_window_days: int = Field(28, ge=0, le=365)
    match_threshold: float = Field(0.85, gt=0, le=1)
    max_request_bytes: int = Field(512 * 1024, ge=1024, description="Largest contact accepted over HTTP.")
    register_reload_seconds: float = Field(30.0, gt=0)
    contacts_per_minute: float = Field(
        60.0, gt=0, description="POST /contacts per client address per minute, after the burst (429 beyond)."
    )
    contacts_burst: int = Field(30, ge=1, description="POST /contacts a client address may send at once.")
    group_commit_ms: float = Field(
        0.0, ge=0, le=100,
        description="Group commit at the front door (MASH_INTAKE_GROUP_COMMIT_MS): contacts arriving within this "
        "many milliseconds of each other are inserted with one bulk write, each request answered once its own "
        "contact and outbox entry are stored. 0: each contact its own insert (the default).",
    )
    group_commit_most: int = Field(
        50, ge=2, le=1000, description="Contacts one group commit gathers at most before it is sent.")
