"""The chart's catalogue (deploy/helm/mash-hub/files/catalogue.yaml) is what its sources give now.

The topics, Kafka users, consumer groups and alerts the chart deploys are generated from the contract,
infra/kafka/acls.txt, the retention schedule, the services' own bootstraps and infra/monitoring/alerts.yml
(deploy/generate.py). A topic added to the contract, an ACL changed in acls.txt, a consumer group renamed in a
service or an alert edited without regenerating fails here.
"""

from __future__ import annotations

import pytest
import yaml
from mash_schemas import topics as contract

from demo.kafka_access import acl_entries, configured_agencies
from deploy.generate import CATALOGUE, build_catalogue, render

pytestmark = pytest.mark.unit


def test_committed_catalogue_is_what_the_sources_give() -> None:
    assert CATALOGUE.read_text(encoding="utf-8") == render(build_catalogue()), (
        "deploy/helm/mash-hub/files/catalogue.yaml is stale: run `.venv/bin/python -m deploy.generate`"
    )


def test_every_contract_topic_and_every_agency_topic_is_catalogued() -> None:
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    agencies = configured_agencies()
    expected = {value for name, value in vars(contract).items()
                if name.isupper() and isinstance(value, str) and value.startswith("mash.") and not value.endswith(".")}
    expected |= {contract.enquiry_request_topic(a) for a in agencies}
    expected |= {contract.agency_response_topic(a) for a in agencies}
    assert {topic["name"] for topic in catalogue["topics"]} == expected


def test_catalogued_users_grant_exactly_acls_txt() -> None:
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    pattern = {"literal": "LITERAL", "prefix": "PREFIXED"}
    granted = {(user["name"], acl["type"].upper(), pattern[acl["patternType"]], acl["name"], operation.upper())
               for user in catalogue["users"] for acl in user["acls"] for operation in acl["operations"]}
    table = {(e.principal, e.resource, e.pattern, e.name, e.operation) for e in acl_entries("", configured_agencies())}
    assert granted == table
