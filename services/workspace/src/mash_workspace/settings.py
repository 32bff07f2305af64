"""The workspace's settings (prefix MASH_WORKSPACE_, falling back to MASH_)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from mash_runtime.settings import HubSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

# Development only, like the hub's other development secrets: refused in production.
DEVELOPMENT_SESSION_KEY = "ZGV2ZWxvcG1lbnQtb25seS13b3Jrc3BhY2Uta2V5LTA="
DEVELOPMENT_CLIENT_SECRET = "development-only-workspace-client-secret"  # noqa: S105


class WorkspaceSettings(HubSettings):
    """Where the services are, who the council is, and how people sign in."""

    model_config = SettingsConfigDict(env_prefix="MASH_WORKSPACE_", extra="ignore")

    service_name: str = "workspace"
    http_port: int = 8080
    council_name: str = Field("Devon County Council", description="Shown in the header of every page.")
    hub_name: str = Field("Multi-Agency Safeguarding Hub", description="The service name in the header.")
    public_url: str = Field("http://127.0.0.1:8080", description="The address people use; sign-in returns here.")

    intake_url: str = "http://127.0.0.1:8001"
    decision_url: str = "http://127.0.0.1:8002"
    enquiry_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"
    insight_url: str = "http://127.0.0.1:8005"
    api_timeout_seconds: float = Field(10.0, gt=0)

    oidc_client_id: str = "mash-workspace"
    oidc_client_secret: SecretStr = SecretStr(DEVELOPMENT_CLIENT_SECRET)
    oidc_scope: str = "openid profile email"

    session_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SESSION_KEY),
        description="Fernet key that encrypts the session id in the cookie (comma-separated, newest first, for "
                    "rotation).",
    )
    session_hours: float = Field(8.0, gt=0, le=24, description="A session ends this long after it began, used or not.")
    session_idle_minutes: float = Field(30.0, gt=0, le=24 * 60,
                                        description="A session ends after this long without a request.")
    mongo_database: str = Field("mash_workspace", description="The workspace's own database: sessions only.")
    test_clock_offset_file: Path | None = Field(
        None, description="Tests only, refused in production: a file of seconds added to the workspace's clock, so "
                          "that a browser test can move the process past the session's idle limit "
                          "(mash_workspace.moved_clock).")
    cookie_secure: bool = Field(True, description="Send the session cookie over HTTPS only (browsers treat "
                                                  "127.0.0.1 as secure, so this stays on locally).")

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.environment == "production":
            if self.session_key.get_secret_value() == DEVELOPMENT_SESSION_KEY:
                raise ValueError("session_key: the development key may not be used in production")
            if self.oidc_client_secret.get_secret_value() == DEVELOPMENT_CLIENT_SECRET:
                raise ValueError("oidc_client_secret: the development secret may not be used in production")
            if not self.cookie_secure:
                raise ValueError("cookie_secure must stay on in production")
            if self.test_clock_offset_file is not None:
                raise ValueError("test_clock_offset_file: a moved clock is for tests only, never in production")
        return self

    def session_keys(self) -> list[str]:
        """Session keys, newest first."""
        return [key.strip() for key in self.session_key.get_secret_value().split(",") if key.strip()]
