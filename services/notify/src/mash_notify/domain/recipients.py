"""Who receives notify's messages, and by which channels: configuration, validated and loaded from YAML.

Each receiving service and each partner agency has email addresses and/or one webhook (with the name
of the secret that signs it). The referrer needs no configuration: they get email when they gave an
address, otherwise the message is only recorded.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

from mash_runtime.config_files import ConfigError, load_config, parse_config
from mash_schemas import AgencyName
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

ServiceId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
SecretName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{2,63}$"),
    Field(description="Name of the secret (an environment variable) holding the webhook's HMAC key."),
]

_LOOPBACK_NAMES = {"localhost"}


WHAT = "recipients configuration"


class RecipientsConfigError(ValueError):
    """The recipients configuration could not be read or is not valid."""


class ReceivingServiceNotConfiguredError(LookupError):
    """A decision names a receiving service that the recipients configuration does not know."""

    def __init__(self, service: str) -> None:
        super().__init__(f"receiving service {service!r} has no recipients configured; the hand-off cannot go")
        self.service = service


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook_url(url: str) -> str:
    # Hand-offs carry personal information: plain http is allowed only to this machine (demos, tests).
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("a webhook url must be an absolute http(s) url")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("a webhook url must use https unless it points at this machine (127.0.0.1)")
    return url


WebhookUrl = Annotated[str, StringConstraints(max_length=200), AfterValidator(_webhook_url)]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Webhook(_Config):
    """A webhook endpoint and the name of the secret its messages are signed with."""

    url: WebhookUrl
    secret_name: SecretName


class Recipient(_Config):
    """How one receiving service or agency is reached. With no channel, messages are only recorded."""

    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    emails: list[EmailStr] = Field(default_factory=list, max_length=10)
    webhook: Webhook | None = None
    record_only: bool = Field(False, description="Set to say, on purpose, that messages are only recorded.")

    @model_validator(mode="after")
    def _reachable_or_record_only(self) -> Self:
        # A recipient with no channel must be declared record-only, so a forgotten address is not silent.
        has_channel = bool(self.emails) or self.webhook is not None
        if not has_channel and not self.record_only:
            raise ValueError("give emails and/or a webhook, or set record_only: true")
        if has_channel and self.record_only:
            raise ValueError("record_only cannot be combined with emails or a webhook")
        return self


class RecipientsConfig(_Config):
    """Recipients for every receiving service and partner agency."""

    receiving_services: dict[ServiceId, Recipient]
    agencies: dict[AgencyName, Recipient] = Field(default_factory=dict)

    def service(self, service: str) -> Recipient:
        """The recipient for `service`; raises ReceivingServiceNotConfiguredError when there is none."""
        try:
            return self.receiving_services[service]
        except KeyError:
            raise ReceivingServiceNotConfiguredError(service) from None

    def agency(self, agency: str) -> Recipient | None:
        """The recipient for `agency`, or None (its outcome notice is then only recorded)."""
        return self.agencies.get(agency)

    @property
    def agency_names(self) -> Mapping[str, str]:
        """Agency id to display name."""
        return {agency: recipient.display_name for agency, recipient in self.agencies.items()}

    @property
    def service_names(self) -> Mapping[str, str]:
        """Receiving service id to display name."""
        return {service: recipient.display_name for service, recipient in self.receiving_services.items()}


def default_recipients_path() -> Traversable:
    """The packaged example configuration (example.org addresses, webhooks on 127.0.0.1)."""
    return files("mash_notify") / "config" / "recipients.yaml"


def parse_recipients(text: str, *, source: str = "<text>") -> RecipientsConfig:
    """Validate recipients configuration given as YAML text (the hub's one loader, mash_runtime.config_files)."""
    return _as_recipients_error(lambda: parse_config(text, RecipientsConfig, what=WHAT, source=source))


def load_recipients(path: Path | str | None = None) -> RecipientsConfig:
    """Load recipients from `path`, or the packaged default when `path` is None."""
    source: Traversable | Path = default_recipients_path() if path is None else Path(path)
    return _as_recipients_error(lambda: load_config(source, RecipientsConfig, what=WHAT))


def _as_recipients_error(load: Callable[[], RecipientsConfig]) -> RecipientsConfig:
    """The loader's error (which names the file and the field) as notify's own, which callers catch."""
    try:
        return load()
    except ConfigError as error:
        raise RecipientsConfigError(str(error)) from error.__cause__ or error
