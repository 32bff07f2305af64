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
# Public-key signatures only: a provider's tokens are checked against the keys it publishes, never a secret.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class HubSettings(BaseSettings):
    """What every service needs: where the broker and database are, security, telemetry."""

    model_config = SettingsConfigDict(env_prefix="MASH_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "mash"

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_replication_factor: int = Field(
        1, ge=1, description="Copies of each partition of a topic the service creates (3 on a cluster of three).")
    kafka_min_insync_replicas: int | None = Field(
        None, ge=1,
        description="min.insync.replicas of a topic the service creates: with acks=all a write is acknowledged only "
        "once this many replicas hold it, and refused below it (2 with replication 3: one broker may be lost). "
        "Unset: the broker's default.",
    )
    kafka_metadata_max_age_ms: int = Field(
        300_000, ge=1_000,
        description="How often the Kafka clients refresh the cluster's metadata (Kafka's metadata.max.age.ms); also "
        "how soon a topic subscribed until it exists (another hub's, in a region) is picked up once created.",
    )
    kafka_fetch_max_wait_ms: int = Field(
        500, ge=1, le=30_000,
        description="How long the broker may hold a consumer's fetch when nothing has arrived (Kafka's "
        "fetch.max.wait.ms). A record that arrives is answered at once whatever this is; what it sets is how often "
        "an idle consumer asks again, and how long a redelivery (a seek back) can wait for the fetch in flight.",
    )
    topic_namespace: str = Field("", pattern=r"^[a-z0-9-]*$", description="Prefix for every topic name.")
    topic_partitions: int = Field(3, ge=1, le=64)
    consumer_max_attempts: int = Field(8, ge=1, description="Failures before a message is dead-lettered.")
    consumer_workers: int = Field(
        1, ge=1, le=16,
        description="Consumers per subscription in one process, each handling its own partitions (per-key order "
        "kept, offsets committed after effects). Up to the topic's partitions; more replicas do the same across "
        "processes.",
    )
    consumer_batch: int = Field(
        1, ge=1, le=500,
        description="Records a subscription takes at once (MASH_CONSUMER_BATCH). 1: one record at a time, as "
        "always. Above 1: the batch's store reads go as one query and its writes as one unordered bulk write, "
        "each referral's records still in offset order, offsets committed after the whole batch is stored "
        "(mash_runtime.consuming, mash_runtime.batching). Replaces consumer_workers when above 1.",
    )
    consumer_commit_linger_ms: int = Field(
        50, ge=0, le=5000,
        description="How long a consumer gathers the offsets of records it has finished before committing them "
        "together (one commit request instead of one per record; 0: as soon as no commit is in flight). A record is "
        "never committed before its effects are stored; what a crash leaves uncommitted is delivered again and "
        "recognised by the inbox, so this trades only redelivery after a crash against commit requests.",
    )
    consumer_batch_linger_ms: int = Field(
        10, ge=1, le=1000,
        description="An idle batch subscription's poll wait (aiokafka's getmany timeout; faststream then pauses as "
        "long before it polls again): a batch is taken as soon as records are there, and a record arriving in the "
        "pause waits up to this long. Measured with ten idle subscriptions: 5 ms costs 5.0% of a core, 20 ms 3.1%, "
        "100 ms 1.6% (one record at a time: 1.6%).",
    )
    consumer_max_value_bytes: int = Field(
        768 * 1024, ge=1024,
        description="A consumed value larger than this is dead-lettered unread: the contract's events are "
        "kilobytes (intake refuses a contact over 512 KiB), and one near the broker's limit (about 1 MB) is a "
        "mistake or an attack.",
    )
    dead_letter_raw_bytes: int = Field(
        64 * 1024, ge=0, le=256 * 1024,
        description="Bytes of a rejected value kept on its dead letter; a longer one keeps this prefix, its size "
        "and its SHA-256, so a dead letter always fits on the dead-letter topic.",
    )

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "mash"

    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=1, le=65535)

    log_level: str = "INFO"
    log_file: Path | None = None
    trace_file: Path | None = Field(None, description="Write finished spans as JSON lines here.")
    otlp_endpoint: str | None = Field(None, description="OTLP/HTTP traces endpoint, e.g. a collector.")
    trace_sample_ratio: float = Field(
        1.0, ge=0.0, le=1.0,
        description="Share of new traces recorded (OpenTelemetry ParentBased(TraceIdRatioBased)): a trace "
        "begun elsewhere keeps its caller's choice. 1.0 records every trace.",
    )
    trace_store_commands: bool = Field(
        True,
        description="A span for every MongoDB command (OpenTelemetry's PyMongo instrumentation). It shows where a "
        "step's time went in the store; it is also more than half of all spans a hub records (57% in the "
        "benchmark), which a collector stores. Off, a trace keeps its HTTP, publish and process spans.",
    )

    jwt_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_JWT_SECRET),
        description="HS256 secret of the hub's own tokens: any role in development and test; in production "
        "only the status tokens intake gives referrers (staff sign in with the identity provider).",
    )
    oidc_issuer: str | None = Field(
        None,
        description="The identity provider's issuer URL (its discovery document is at "
        "<issuer>/.well-known/openid-configuration); its RS256 tokens are accepted. Required in production.",
    )
    oidc_audience: str = Field("mash-hub", min_length=1, description="The `aud` the hub's access tokens carry.")
    oidc_algorithms: str = Field("RS256", description="Comma-separated JWS algorithms accepted from the provider.")
    oidc_roles_claim: str = Field(
        "roles", min_length=1, description="Claim holding the hub roles (a list); dots reach into objects."
    )
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description='The provider\'s names for the hub roles, e.g. {"MASH-Screeners": "screener"}; '
        "names neither mapped nor a hub role are ignored.",
    )
    oidc_agency_claim: str = Field("agency", min_length=1, description="Claim naming an agency user's agency.")
    oidc_name_claim: str = Field("name", min_length=1, description="Claim with the person's display name.")
    oidc_leeway_seconds: float = Field(30.0, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat.")
    sealing_keys: SecretStr = Field(
        SecretStr(DEVELOPMENT_SEALING_KEY),
        description="Comma-separated Fernet keys, newest first; older keys still open old seals.",
    )

    shutdown_step_seconds: float = Field(
        3.0, gt=0, le=60,
        description="On SIGTERM, how long each shutdown step (relay and clocks, Kafka clients, store client) may "
        "take before it is abandoned; an exit is then prompt even with the broker down.",
    )
    retention_file: Path | None = Field(
        None, description="The retention schedule (YAML); the packaged mash_runtime/retention.yaml when unset.")
    retention_sweep_seconds: float = Field(3600.0, gt=0, description="How often the retention sweeper runs.")
    retention_batch: int = Field(100, ge=1, le=10_000, description="Subjects a sweeper run erases at most.")
    relay_poll_seconds: float = Field(0.5, gt=0, description="How often the outbox relay looks for work.")
    relay_full_scan_seconds: float = Field(
        30.0, gt=0, description="How often the relay scans every aggregate for pending events (crash recovery)."
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
            if not self.oidc_issuer:
                raise ValueError("oidc_issuer: staff sign in with the identity provider in production; set it")
            if not self.oidc_issuer.startswith("https://"):
                raise ValueError("oidc_issuer: the identity provider must be reached over https in production")
        return self

    @model_validator(mode="after")
    def _min_insync_within_replication(self) -> Self:
        # More in-sync replicas than copies would make every acks=all write on the topic fail.
        wanted = self.kafka_min_insync_replicas
        if wanted is not None and wanted > self.kafka_replication_factor:
            raise ValueError(f"kafka_min_insync_replicas ({self.kafka_min_insync_replicas}) exceeds "
                             f"kafka_replication_factor ({self.kafka_replication_factor})")
        return self

    @model_validator(mode="after")
    def _only_asymmetric_algorithms(self) -> Self:
        for name in self.oidc_algorithm_list():
            if name not in ASYMMETRIC_ALGORITHMS:
                raise ValueError(f"oidc_algorithms: {name!r} is not one of {', '.join(ASYMMETRIC_ALGORITHMS)}")
        if not self.oidc_algorithm_list():
            raise ValueError("oidc_algorithms: name at least one algorithm")
        return self

    def oidc_algorithm_list(self) -> list[str]:
        """The JWS algorithms accepted on the identity provider's tokens."""
        return [name.strip() for name in self.oidc_algorithms.split(",") if name.strip()]

    def topic(self, base: str) -> str:
        """The deployed name of a contract topic, with this hub's namespace in front when set."""
        return f"{self.topic_namespace}.{base}" if self.topic_namespace else base

    def group(self, name: str) -> str:
        """The deployed consumer-group id: namespaced like topics, so hubs sharing a cluster never mix."""
        return f"{self.topic_namespace}.{name}" if self.topic_namespace else name

    def sealing_key_list(self) -> list[str]:
        """Sealing keys, newest first."""
        return [key.strip() for key in self.sealing_keys.get_secret_value().split(",") if key.strip()]
