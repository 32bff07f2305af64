"""The enquiry service's settings (prefix MASH_ENQUIRY_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from mash_runtime.settings import HubSettings
from mash_runtime.transit import DEVELOPMENT_TRANSIT_KEY_ID, DEVELOPMENT_TRANSIT_PUBLIC_KEY, public_key_ids, split_keys
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict


class EnquirySettings(HubSettings):
    """Where the agency directory comes from and how often the deadline sweeper looks."""

    model_config = SettingsConfigDict(env_prefix="MASH_ENQUIRY_", extra="ignore")

    service_name: str = "enquiry"
    mongo_database: str = "mash_enquiry"
    http_port: int = 8003
    agencies_file: Path | None = Field(None, description="The hub's partner agencies; packaged default.")
    region_file: Path | None = Field(
        None, description="The region (MASH_REGION_FILE): every other hub becomes a member `hub-<id>` of this hub's "
        "enquiries; unset = a single hub.")
    sweep_seconds: float = Field(1.0, gt=0, description="How often reminders and due times are checked.")
    decision_public_keys: str = Field(
        DEVELOPMENT_TRANSIT_PUBLIC_KEY,
        description="The decision service's RSA public keys (base64 DER or PEM), comma-separated, newest first: "
        "sensitive items on enquiry.completed and enquiry.addendum are encrypted for the first.",
    )

    def decision_public_key_list(self) -> list[str]:
        """The decision service's public keys, newest first."""
        return split_keys(self.decision_public_keys)

    @model_validator(mode="after")
    def _no_development_transit_key_in_production(self) -> Self:
        ids = public_key_ids(self.decision_public_key_list())  # also fails early on a malformed key
        if not ids:
            raise ValueError("decision_public_keys: at least one key is required")
        if self.environment == "production" and DEVELOPMENT_TRANSIT_KEY_ID in ids:
            raise ValueError("decision_public_keys: the development key may not be used in production")
        return self
