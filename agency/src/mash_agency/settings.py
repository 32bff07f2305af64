"""The agency kit's settings, read from MASH_AGENCY_* environment variables."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Annotated, Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from mash_schemas.topics import agency_response_topic, enquiry_request_topic
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mash_agency.region import namespaces_served

SIMULATED_ADAPTER = "mash_agency.simulated:SimulatedAgency"


class DelayRangeInvalid(ValueError):
    """A response delay must be written 'seconds' or 'min-max', with 0 <= min <= max."""


_SECONDS = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DELAY = re.compile(rf"\s*(?P<low>{_SECONDS})\s*(?:-\s*(?P<high>{_SECONDS})\s*)?")


def parse_delay(text: str) -> tuple[float, float]:
    """Parse '0.5-2.0' (a range) or '1.5' (a fixed delay) into (min, max) seconds."""
    found = _DELAY.fullmatch(text)
    if found is None:
        raise DelayRangeInvalid(f"response delay {text!r} is not 'seconds' or 'min-max'")
    low = float(found["low"])
    high = float(found["high"]) if found["high"] is not None else low
    if high < low:
        raise DelayRangeInvalid(f"response delay {text!r} must satisfy 0 <= min <= max")
    return (low, high)


class AgencySettings(BaseSettings):
    """Who this agency is, where the hub's Kafka is, how to log in, and which adapter answers."""

    model_config = SettingsConfigDict(env_prefix="MASH_AGENCY_", extra="ignore", populate_by_name=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")] = Field(
        description="The agency's id as configured in the hub, e.g. 'health'."
    )
    bootstrap_servers: str = Field(
        "localhost:9092",
        validation_alias=AliasChoices("MASH_AGENCY_BOOTSTRAP_SERVERS", "MASH_KAFKA_BOOTSTRAP"),
        description="Comma-separated host:port list of the hub's Kafka brokers.",
    )
    namespace: str | None = Field(
        None,
        validation_alias=AliasChoices("MASH_AGENCY_NAMESPACE", "MASH_TOPIC_NAMESPACE"),
        description="Prefix of every topic name when the hub runs under a namespace.",
    )
    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Every hub this one deployment answers, by namespace, comma-separated (several hubs on one "
        "cluster); each hub's requests are read in its own group and answered on its own response topic.",
    )
    region_file: Path | None = Field(
        None,
        validation_alias=AliasChoices("MASH_AGENCY_REGION_FILE", "MASH_REGION_FILE"),
        description="The region file the hubs share: the kit answers every hub that lists this agency.",
    )
    adapter: str = Field(SIMULATED_ADAPTER, description="'module:attr' of the agency's adapter.")
    username: str | None = None
    password: SecretStr | None = None
    mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    use_tls: bool = Field(False, description="Connect over TLS (SASL_SSL / SSL).")
    ca_file: Path | None = Field(None, description="CA bundle that signed the brokers' certificates.")
    response_delay: Annotated[tuple[float, float], NoDecode] = Field(
        (0.0, 0.0), description="Simulations only: wait a random time in this range before answering."
    )
    create_topics: bool = Field(True, description="Create the request topic at start if it is missing.")
    topic_partitions: int = Field(3, ge=1, description="Partitions of the request topic, if the kit creates it.")
    topic_replication: int = Field(1, ge=1, description="Replication factor, if the kit creates the topic.")
    workers: int = Field(1, ge=1, le=64, description="Partitions answered concurrently by one copy.")
    fetch_max_wait_ms: int = Field(
        500, ge=1, le=30_000,
        description="How long the broker may hold the kit's fetch when no request has arrived (Kafka's "
        "fetch.max.wait.ms): a request that arrives is read at once; longer means an idle kit asks less often.",
    )
    retry_backoff: float = Field(5.0, ge=0, description="Seconds to wait before a failed request comes back.")
    never_answer: bool = Field(False, description="Simulations only: a silent agency that never reads or answers.")

    @field_validator("response_delay", mode="before")
    @classmethod
    def _delay_from_text(cls, value: object) -> object:
        return parse_delay(value) if isinstance(value, str) else value

    @field_validator("namespaces", mode="before")
    @classmethod
    def _namespaces_from_text(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespaces_are_names(cls, value: list[str]) -> list[str]:
        for namespace in value:
            if not re.fullmatch(r"[a-z0-9-]+", namespace):
                raise ValueError(f"namespace {namespace!r}: lower case letters, digits and hyphens only")
        if len(set(value)) != len(value):
            raise ValueError("a namespace is listed twice")
        return value

    @field_validator("namespace", mode="before")
    @classmethod
    def _blank_namespace_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> AgencySettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("set both MASH_AGENCY_USERNAME and MASH_AGENCY_PASSWORD for SASL, or neither")
        return self

    def hub_namespaces(self) -> list[str | None]:
        """The namespace of every hub this deployment answers: `namespaces`, else the region file's hubs
        that list this agency, else the one `namespace` (None: a hub without a namespace)."""
        if self.namespaces:
            return list(self.namespaces)
        if self.region_file is not None:
            return list(namespaces_served(self.region_file, self.name))
        return [self.namespace]

    @property
    def consumer_group(self) -> str:
        """Copies of one agency share this group, and so share its request topic's partitions.

        Namespaced like the topics, so hubs or test runs sharing a cluster never share a group.
        """
        return self.consumer_group_in(self.namespace)

    @property
    def request_topic(self) -> str:
        """Where this agency receives enquiry requests and reminders."""
        return self.request_topic_in(self.namespace)

    @property
    def response_topic(self) -> str:
        """Where this agency publishes its answers."""
        return self.response_topic_in(self.namespace)

    def consumer_group_in(self, namespace: str | None) -> str:
        """The agency's group at the hub with this namespace (each hub's ACLs give the agency its own)."""
        return self.namespaced(f"agency-{self.name}", namespace)

    def request_topic_in(self, namespace: str | None) -> str:
        """Where the hub with this namespace sends the agency its requests."""
        return self.namespaced(enquiry_request_topic(self.name), namespace)

    def response_topic_in(self, namespace: str | None) -> str:
        """Where the agency answers the hub with this namespace: an answer goes back to the hub that asked."""
        return self.namespaced(agency_response_topic(self.name), namespace)

    def namespaced(self, topic: str, namespace: str | None = None) -> str:
        """`topic` with a namespace in front (this hub's, unless another is given), when one is set."""
        prefix = namespace if namespace is not None else self.namespace
        return f"{prefix}.{topic}" if prefix else topic

    def security(self) -> BaseSecurity | None:
        """faststream security for SASL (SCRAM-SHA-512 by default) and/or TLS; None for a plain connection."""
        context = self._tls_context()
        if self.username is None or self.password is None:
            return BaseSecurity(ssl_context=context) if context is not None else None
        secret = self.password.get_secret_value()
        if self.mechanism == "SCRAM-SHA-256":
            return SASLScram256(self.username, secret, ssl_context=context)
        if self.mechanism == "PLAIN":
            return SASLPlaintext(self.username, secret, ssl_context=context)
        return SASLScram512(self.username, secret, ssl_context=context)

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.use_tls:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
