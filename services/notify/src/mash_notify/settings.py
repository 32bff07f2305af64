"""Notify's settings (prefix MASH_NOTIFY_, falling back to MASH_)."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Self

from mash_runtime.settings import HubSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from mash_notify.domain.retry_policy import RetryPolicy


class NotifySettings(HubSettings):
    """Recipients, the SMTP relay, webhook timeouts and the retry schedule."""

    model_config = SettingsConfigDict(env_prefix="MASH_NOTIFY_", extra="ignore")

    service_name: str = "notify"
    mongo_database: str = "mash_notify"
    http_port: int = 8004
    recipients_file: Path | None = Field(None, description="Recipients per service and agency; packaged default.")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(2525, ge=1, le=65535)
    smtp_sender: str = "mash-hub@hub.example.org"
    smtp_use_tls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    send_timeout_seconds: float = Field(10.0, gt=0)
    retry: RetryPolicy = RetryPolicy(first_delay=timedelta(seconds=30), max_attempts=8)
    delivery_sweep_seconds: float = Field(1.0, gt=0, description="How often due deliveries are looked for.")
    send_concurrency: int = Field(8, ge=1, le=64, description="Messages sent at once by one replica.")
    sweep_batch: int = Field(200, ge=1, le=5000, description="Due messages claimed per sweep at most.")
    replica_id: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=200,
        description="This replica's name on its claims; unique per replica (the host name by default), and "
        "the same across restarts, so that a restarted replica takes back its own claims at once.",
    )
    claim_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claim holds before another replica may send the message again."
    )

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Self:
        if self.claim_lease_seconds <= self.send_timeout_seconds:
            raise ValueError("claim_lease_seconds must be longer than send_timeout_seconds (a send is cut off then)")
        return self
