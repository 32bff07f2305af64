"""Settings common to every service, read from the environment.

Each service subclasses `HubSettings` with its own prefix (e.g. MASH_INTAKE_); a value not set under
the service's prefix falls back to the hub-wide MASH_ prefix, so one MASH_KAFKA_BOOTSTRAP serves all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Development-only secrets: refused outside development and test so that nobody deploys them.
DEVELOPMENT_JWT_SECRET = "development-only-jwt-secret-change-me-0123456789"  # noqa: S105
DEVELOPMENT_SEALING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1zZWFsaW5nLWtleS0wMDA="


class HubSettings(BaseSettings):
    """What every service needs: where the broker and database are, security, telemetry."""

    model_config = SettingsConfigDict(env_prefix="MASH_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "mash"

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_replication_factor: int = Field(1, ge=1)
    topic_namespace: str = Field("", pattern=r"^[a-z0-9-]*$", description="Prefix for every topic name.")
    topic_partitions: int = Field(3, ge=1, le=64)
    consumer_max_attempts: int = Field(8, ge=1, description="Failures before a message is dead-lettered.")

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "mash"

    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=1, le=65535)

    log_level: str = "INFO"
    log_file: Path | None = None
    trace_file: Path | None = Field(None, description="Write finished spans as JSON lines here.")
    otlp_endpoint: str | None = Field(None, description="OTLP/HTTP traces endpoint, e.g. a collector.")

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    sealing_keys: SecretStr = Field(
        SecretStr(DEVELOPMENT_SEALING_KEY),
        description="Comma-separated Fernet keys, newest first; older keys still open old seals.",
    )

    relay_poll_seconds: float = Field(0.5, gt=0, description="How often the outbox relay looks for work.")
    relay_full_scan_seconds: float = Field(
        30.0, gt=0, description="How often the relay scans every aggregate for pending events (crash recovery)."
    )
    fault_crash_before_publish: bool = Field(
        False, description="Test-only fault injection: exit the process before the relay's first publish."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Service prefix first, then the hub-wide MASH_ prefix."""
        hub_wide = EnvSettingsSource(settings_cls, env_prefix="MASH_")
        return (init_settings, env_settings, hub_wide, dotenv_settings, file_secret_settings)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Self:
        if self.environment == "production":
            if self.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET:
                raise ValueError("jwt_secret: the development secret may not be used in production")
            if DEVELOPMENT_SEALING_KEY in self.sealing_key_list():
                raise ValueError("sealing_keys: the development key may not be used in production")
            if self.fault_crash_before_publish:
                raise ValueError("fault_crash_before_publish is for tests only")
        return self

    def topic(self, base: str) -> str:
        """The deployed name of a contract topic, with this hub's namespace in front when set."""
        return f"{self.topic_namespace}.{base}" if self.topic_namespace else base

    def group(self, name: str) -> str:
        """The deployed consumer-group id: namespaced like topics, so hubs sharing a cluster never mix."""
        return f"{self.topic_namespace}.{name}" if self.topic_namespace else name

    def sealing_key_list(self) -> list[str]:
        """Sealing keys, newest first."""
        return [key.strip() for key in self.sealing_keys.get_secret_value().split(",") if key.strip()]
