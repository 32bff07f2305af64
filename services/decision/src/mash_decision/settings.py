"""The decision service's settings (prefix MASH_DECISION_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from mash_runtime.settings import HubSettings
from mash_runtime.transit import (
    DEVELOPMENT_TRANSIT_KEY_ID,
    DEVELOPMENT_TRANSIT_PRIVATE_KEY,
    private_key_ids,
    split_keys,
)
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict


class DecisionSettings(HubSettings):
    """The hub's timescales and recommendation rules, routing, and how often the clock is watched."""

    model_config = SettingsConfigDict(env_prefix="MASH_DECISION_", extra="ignore")

    service_name: str = "decision"
    mongo_database: str = "mash_decision"
    http_port: int = 8002
    timescales_file: Path | None = Field(None, description="Targets per rating and working hours; packaged default.")
    recommendation_file: Path | None = Field(None, description="Escalation and outcome rules; packaged default.")
    dip_sample_file: Path | None = Field(
        None, description="The weekly quality-assurance dip sample's size per outcome; packaged default.")
    route_allocated_automatically: bool = Field(
        True, description="Send a contact about a child with an allocated social worker straight to that worker."
    )
    require_childs_voice: bool = Field(
        True, description="Refuse a decision (422 naming childs_voice) that does not record whether the child's "
        "wishes and feelings and the parents' views are known, what they are, or why not (Working Together). On by "
        "default; off only for a hub replaying decisions recorded before the hub asked for it.",
    )
    clock_check_seconds: float = Field(30.0, gt=0, description="How often near-breaches and breaches are checked.")
    kafka_metadata_max_age_ms: int = Field(
        30_000, ge=1_000,
        description="In a region the desk reads the other hubs' request topics for it, which their enquiry services "
        "create: looked for every 30 s (a small metadata request), so a neighbour deployed later is answered soon.",
    )
    region_file: Path | None = Field(
        None, description="The region (MASH_REGION_FILE): the hubs this one may transfer contacts to; unset = a "
        "single hub, no transfers.",
    )
    transit_private_keys: SecretStr = Field(
        SecretStr(DEVELOPMENT_TRANSIT_PRIVATE_KEY),
        description="RSA private keys (base64 DER PKCS#8 or PEM), comma-separated, newest first, that open the "
        "sensitive items the enquiry service encrypts for this service; older keys still open what was sealed "
        "for them.",
    )

    def transit_private_key_list(self) -> list[str]:
        """The private keys, newest first."""
        return split_keys(self.transit_private_keys.get_secret_value())

    @model_validator(mode="after")
    def _no_development_transit_key_in_production(self) -> Self:
        ids = private_key_ids(self.transit_private_key_list())  # also fails early on a malformed key
        if not ids:
            raise ValueError("transit_private_keys: at least one key is required")
        if self.environment == "production" and DEVELOPMENT_TRANSIT_KEY_ID in ids:
            raise ValueError("transit_private_keys: the development key may not be used in production")
        return self
