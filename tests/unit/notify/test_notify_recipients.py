"""Recipients configuration: the packaged default, loading from a path, and what is refused."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from mash_notify.domain.recipients import (
    ReceivingServiceNotConfiguredError,
    RecipientsConfigError,
    load_recipients,
    parse_recipients,
)

pytestmark = pytest.mark.unit

RECEIVING_SERVICES = {
    "assessment-team",
    "early-help",
    "targeted-family-support",
    "universal-services",
    "information-only",
    "allocated-worker",
}


def test_the_packaged_default_covers_every_receiving_service_with_example_addresses() -> None:
    config = load_recipients()

    assert set(config.receiving_services) == RECEIVING_SERVICES
    assert {"police", "health", "education"} <= set(config.agencies)
    recipients = [*config.receiving_services.values(), *config.agencies.values()]
    for recipient in recipients:
        assert all(email.endswith("@example.org") for email in recipient.emails)
        if recipient.webhook is not None:
            assert urlsplit(recipient.webhook.url).hostname == "127.0.0.1"
    assert config.service("information-only").record_only


def test_recipients_load_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "recipients.yaml"
    path.write_text(
        "receiving_services:\n"
        "  early-help:\n"
        "    display_name: Early Help Hub\n"
        "    emails: [eh@example.org, eh-duty@example.org]\n"
        "    webhook: {url: 'https://eh.example.org/hooks/mash', secret_name: EH_SECRET}\n"
        "agencies:\n"
        "  police: {display_name: Northshire Police, record_only: true}\n",
        encoding="utf-8",
    )

    config = load_recipients(path)

    assert config.service("early-help").emails == ["eh@example.org", "eh-duty@example.org"]
    assert config.service_names == {"early-help": "Early Help Hub"}
    assert config.agency_names == {"police": "Northshire Police"}
    assert config.agency("health") is None
    with pytest.raises(ReceivingServiceNotConfiguredError):
        config.service("assessment-team")


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("{display_name: X}", "record_only"),
        ("{display_name: X, emails: [not-an-address]}", "email"),
        ("{display_name: X, webhook: {url: 'http://hooks.example.org/x', secret_name: S_KEY}}", "https"),
        ("{display_name: X, webhook: {url: 'ftp://127.0.0.1/x', secret_name: S_KEY}}", "http"),
        ("{display_name: X, webhook: {url: 'https://hooks.example.org/x', secret_name: lower}}", "secret_name"),
        ("{display_name: X, emails: [a@example.org], record_only: true}", "record_only"),
        ("{display_name: X, emails: [a@example.org], fax: '0100'}", "fax"),
    ],
)
def test_invalid_recipients_are_refused_naming_the_fault(entry: str, reason: str) -> None:
    with pytest.raises(RecipientsConfigError, match=reason):
        parse_recipients(f"receiving_services:\n  early-help: {entry}\n")


def test_plain_http_is_allowed_only_to_this_machine() -> None:
    config = parse_recipients(
        "receiving_services:\n"
        "  early-help: {display_name: X, webhook: {url: 'http://localhost:9000/h', secret_name: S_KEY}}\n"
    )

    assert config.service("early-help").webhook is not None


@pytest.mark.parametrize("text", ["[1, 2]", "receiving_services: [", ""])
def test_unreadable_configuration_is_refused(text: str) -> None:
    with pytest.raises(RecipientsConfigError):
        parse_recipients(text)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecipientsConfigError, match="cannot read"):
        load_recipients(tmp_path / "absent.yaml")
