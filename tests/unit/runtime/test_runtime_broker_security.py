"""How a service logs in to Kafka: as its own SCRAM principal, and never without one in production."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from faststream.security import SASLScram512
from mash_runtime.broker import KafkaCredentialsMissing, broker_security
from mash_runtime.settings import HubSettings

pytestmark = pytest.mark.unit

PRODUCTION: dict[str, Any] = {"environment": "production", "jwt_secret": "a-production-secret-of-some-length-0123456789",
              "sealing_keys": Fernet.generate_key().decode(), "oidc_issuer": "https://login.example.org"}


def test_a_service_logs_in_as_its_own_principal() -> None:
    security = broker_security(HubSettings(kafka_username="decision", kafka_password="s3cret"))
    assert isinstance(security, SASLScram512)
    assert security.use_ssl is False  # SASL_PLAINTEXT outside production
    production = broker_security(HubSettings(**PRODUCTION, kafka_username="decision", kafka_password="s3cret"))
    assert isinstance(production, SASLScram512)
    assert production.use_ssl is True  # SASL_SSL in production


def test_without_credentials_only_development_and_tests_connect_unauthenticated() -> None:
    assert broker_security(HubSettings(environment="test", kafka_username=None, kafka_password=None)) is None
    with pytest.raises(KafkaCredentialsMissing, match="MASH_KAFKA_USERNAME"):
        broker_security(HubSettings(**PRODUCTION, kafka_username=None, kafka_password=None))
