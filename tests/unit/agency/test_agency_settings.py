"""The kit's settings: environment names, the hub's shared variables, delays and credentials."""

from __future__ import annotations

import pytest
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512
from hypothesis import given
from hypothesis import strategies as st
from mash_agency.settings import AgencySettings, DelayRangeInvalid, parse_delay
from pydantic import ValidationError

pytestmark = pytest.mark.unit

HUB_VARIABLES = [
    "MASH_AGENCY_NAME",
    "MASH_AGENCY_BOOTSTRAP_SERVERS",
    "MASH_KAFKA_BOOTSTRAP",
    "MASH_AGENCY_NAMESPACE",
    "MASH_TOPIC_NAMESPACE",
    "MASH_AGENCY_RESPONSE_DELAY",
    "MASH_AGENCY_USERNAME",
    "MASH_AGENCY_PASSWORD",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HUB_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_settings_come_from_mash_agency_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_AGENCY_NAME", "housing")
    monkeypatch.setenv("MASH_AGENCY_BOOTSTRAP_SERVERS", "kafka.hub:9093")
    monkeypatch.setenv("MASH_AGENCY_NAMESPACE", "demo")
    monkeypatch.setenv("MASH_AGENCY_RESPONSE_DELAY", "0.5-2.0")
    monkeypatch.setenv("MASH_AGENCY_ADAPTER", "housing_kit.adapter:HousingRecords")

    settings = AgencySettings()

    assert settings.name == "housing"
    assert settings.bootstrap_servers == "kafka.hub:9093"
    assert settings.request_topic == "demo.mash.enquiry.request.housing"
    assert settings.response_delay == (0.5, 2.0)
    assert settings.adapter == "housing_kit.adapter:HousingRecords"
    assert settings.consumer_group == "demo.agency-housing"


def test_the_hubs_shared_kafka_and_namespace_variables_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_AGENCY_NAME", "police")
    monkeypatch.setenv("MASH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    monkeypatch.setenv("MASH_TOPIC_NAMESPACE", "run-17")

    settings = AgencySettings()

    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.response_topic == "run-17.mash.agency.response.police"


def test_an_empty_namespace_means_none() -> None:
    assert AgencySettings(name="police", namespace="  ").request_topic == "mash.enquiry.request.police"


@pytest.mark.parametrize("name", ["Health", "h", "health_visiting", "1police"])
def test_agency_names_follow_the_hubs_pattern(name: str) -> None:
    with pytest.raises(ValidationError):
        AgencySettings(name=name)


def test_no_credentials_means_a_plain_connection() -> None:
    assert AgencySettings(name="health").security() is None


@pytest.mark.parametrize(
    ("mechanism", "kind"),
    [("SCRAM-SHA-512", SASLScram512), ("SCRAM-SHA-256", SASLScram256), ("PLAIN", SASLPlaintext)],
)
def test_sasl_mechanisms(mechanism: str, kind: type) -> None:
    security = AgencySettings(name="health", username="u", password="p", mechanism=mechanism).security()

    assert isinstance(security, kind)
    assert security is not None and not security.use_ssl


def test_scram_512_is_the_default_and_tls_can_be_asked_for() -> None:
    security = AgencySettings(name="health", username="u", password="p", use_tls=True).security()

    assert isinstance(security, SASLScram512)
    assert security.use_ssl
    assert security.ssl_context is not None


def test_a_username_without_a_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="USERNAME"):
        AgencySettings(name="health", username="u")


def test_the_password_is_not_shown_in_the_settings_repr() -> None:
    assert "hunter2" not in repr(AgencySettings(name="health", username="u", password="hunter2"))


@pytest.mark.parametrize(("text", "expected"), [("0.5-2.0", (0.5, 2.0)), ("1.5", (1.5, 1.5)), ("0", (0.0, 0.0))])
def test_delays_read_as_ranges(text: str, expected: tuple[float, float]) -> None:
    assert parse_delay(text) == expected


@pytest.mark.parametrize("text", ["2-1", "-1", "fast", "1-", "0.5-2.0-3"])
def test_bad_delays_are_refused(text: str) -> None:
    with pytest.raises(DelayRangeInvalid):
        parse_delay(text)


@given(low=st.floats(0, 100, allow_nan=False), span=st.floats(0, 100, allow_nan=False))
def test_any_written_range_reads_back(low: float, span: float) -> None:
    high = low + span
    assert parse_delay(f"{low!r}-{high!r}") == (low, high)
