"""docker-compose.region.yml (the region's two hubs on docker compose) is what its sources give, and says what the
region model says.

There is no Docker engine here, so this is checked by rendering, not by running it: the committed override
equals `python -m deploy.compose_region`'s output, parses, and, merged with docker-compose.yml as
`docker compose -f docker-compose.yml -f docker-compose.region.yml` merges it (for the keys used here),
gives every hub's service its namespace, database, principal and password variable, a Kafka user to every
principal the region's ACLs name, distinct databases and host ports, and no port on anything but 127.0.0.1.
compose-acls.sh is run with a stand-in for kafka-acls.sh to show that it grants exactly the generated list.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from mash_runtime.region import Region, load_region

from demo.kafka_access import (
    AGENCIES_FILE,
    SERVICES,
    acl_entries,
    agency_principal,
    configured_agencies,
    region_acl_entries,
    region_principals,
)
from deploy.compose_region import (
    ACLS_IN_CONTAINER,
    BASE_FILE,
    EXAMPLE_REGION,
    INFRASTRUCTURE,
    REGION_COMPOSE,
    REGION_IN_CONTAINER,
    SINGLE_HUB_PROFILE,
    main,
    password,
    password_variable,
    principal_of_variable,
    render,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
ACLS_SCRIPT = ROOT / "infra" / "kafka" / "compose-acls.sh"
Grant = tuple[str, str, str, str, str]  # principal, resource, pattern, name, operation


def _defaults(text: str) -> str:
    """`text` with each ${VARIABLE:-default} as compose fills it when the variable is unset."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", text)


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region(EXAMPLE_REGION)


@pytest.fixture(scope="module")
def override() -> dict[str, Any]:
    document = yaml.safe_load(REGION_COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    document = yaml.safe_load(BASE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _merge(base: Any, override: Any, key: str = "") -> Any:
    """Compose's merge of an override, for the keys these files use: mappings merge, ports add up, the rest replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = _merge(base[name], value, name) if name in base else copy.deepcopy(value)
        return merged
    if key == "ports" and isinstance(base, list) and isinstance(override, list):
        return [*base, *override]
    return copy.deepcopy(override)


@pytest.fixture(scope="module")
def active(base: dict[str, Any], override: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services `up` starts: the merged model's, without those in a profile not asked for."""
    merged = _merge(base, override)
    return {name: service for name, service in merged["services"].items() if not service.get("profiles")}


def _granted(text: str) -> set[Grant]:
    grants: set[Grant] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            principal, resource, pattern, name, operations = line.split()
            grants |= {(principal, resource, pattern, name, operation) for operation in operations.split(",")}
    return grants


def test_committed_override_is_what_the_sources_give(region: Region) -> None:
    assert REGION_COMPOSE.read_text(encoding="utf-8") == render(region, EXAMPLE_REGION), (
        "docker-compose.region.yml is stale: run `.venv/bin/python -m deploy.compose_region`"
    )
    assert main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "docker-compose.region.yml"
    stale.write_text(REGION_COMPOSE.read_text(encoding="utf-8").replace("westshire_intake", "westshire_x"))
    assert main(["--check", "--output", str(stale)]) == 1


def test_the_single_hub_is_switched_off_and_the_infrastructure_kept(base: dict[str, Any], override: dict[str, Any],
                                                                      active: dict[str, dict[str, Any]]) -> None:
    for name in base["services"]:
        if name in INFRASTRUCTURE:
            assert name in active
        else:
            assert override["services"][name] == {"profiles": [SINGLE_HUB_PROFILE]}, name
    assert override["name"] != base["name"], "the region needs volumes of its own (Kafka's users are made at format)"
    for name, service in active.items():
        for needed in service.get("depends_on", {}):
            assert needed in active, f"{name} waits for {needed}, which does not start"


def test_every_hub_service_has_its_namespace_principal_password_and_database(
        region: Region, active: dict[str, dict[str, Any]]) -> None:
    for hub in region.hubs:
        for service in SERVICES:
            principal = hub.principal(service)
            env = active[principal]["environment"]
            assert env["MASH_TOPIC_NAMESPACE"] == hub.namespace
            assert env["MASH_KAFKA_USERNAME"] == principal
            assert env["MASH_KAFKA_PASSWORD"] == f"${{{password_variable(principal)}:-development-only-kafka-{principal}}}"
            assert env[f"MASH_{service.upper()}_MONGO_DATABASE"] == hub.database(service)
            assert env["MASH_REGION_FILE"] == REGION_IN_CONTAINER
            assert {"source": "region", "target": REGION_IN_CONTAINER} in active[principal]["configs"]
            assert env["MASH_JWT_SECRET"].startswith(f"${{MASH_{hub.id.upper()}_JWT_SECRET:-")
        workspace = active[hub.principal("workspace")]["environment"]
        assert workspace["MASH_TOPIC_NAMESPACE"] == hub.namespace
        assert workspace["MASH_WORKSPACE_MONGO_DATABASE"] == hub.database("workspace")
        assert workspace["MASH_WORKSPACE_COUNCIL_NAME"] == hub.name
        for service in SERVICES:
            assert workspace[f"MASH_WORKSPACE_{service.upper()}_URL"].startswith(f"http://{hub.principal(service)}:")


def test_the_agency_kits_answer_every_hub_that_lists_them(region: Region, active: dict[str, dict[str, Any]]) -> None:
    kits = {name: service for name, service in active.items() if "MASH_AGENCY_USERNAME" in service.get("environment", {})}
    assert sorted(kits) == [f"{region.id}-{agency_principal(agency)}" for agency in region.agencies()]
    for agency in region.agencies():
        kit = kits[f"{region.id}-{agency_principal(agency)}"]
        assert kit["command"] == ["run", "--agency", agency]
        env = kit["environment"]
        assert env["MASH_AGENCY_USERNAME"] == agency_principal(agency)
        assert env["MASH_AGENCY_PASSWORD"] == password(agency_principal(agency))
        assert env["MASH_AGENCY_NAMESPACES"].split(",") == [hub.namespace for hub in region.hubs_of_agency(agency)]
        assert env["MASH_AGENCY_CREATE_TOPICS"] == "false"
    assert kits[f"{region.id}-agency-police"]["environment"]["MASH_AGENCY_NAMESPACES"] == "westshire,eastshire"
    assert kits[f"{region.id}-agency-youth-offending"]["environment"]["MASH_AGENCY_NAMESPACES"] == "westshire"


def test_each_police_force_has_its_router(region: Region, active: dict[str, dict[str, Any]]) -> None:
    assert region.police_forces
    for force in region.police_forces:
        router = active[force.router_principal]
        assert router["command"] == ["python", "-m", "mash_intake.police_router"]
        env = router["environment"]
        assert env["MASH_POLICE_ROUTER_FORCE"] == force.id
        assert env["MASH_REGION_FILE"] == REGION_IN_CONTAINER
        assert env["MASH_KAFKA_USERNAME"] == force.router_principal
        assert env["MASH_KAFKA_PASSWORD"] == password(force.router_principal)


def test_the_acls_are_the_regions_and_every_principal_has_a_user(
        region: Region, override: dict[str, Any], active: dict[str, dict[str, Any]]) -> None:
    listed = override["configs"]["region-acls"]["content"]
    assert "{" not in listed
    granted = _granted(listed)
    assert granted == {(e.principal, e.resource, e.pattern, e.name, e.operation) for e in region_acl_entries(region)}
    assert active["kafka-init"]["environment"]["MASH_ACL_FILE"] == ACLS_IN_CONTAINER
    assert {"source": "region-acls", "target": ACLS_IN_CONTAINER} in active["kafka-init"]["configs"]

    # compose-start.sh makes one SCRAM user per MASH_KAFKA_PASSWORD_<PRINCIPAL> in Kafka's environment.
    kafka_env = active["kafka"]["environment"]
    users = {principal_of_variable(key): value for key, value in kafka_env.items()
             if key.startswith("MASH_KAFKA_PASSWORD_")}
    assert {principal for principal, *_ in granted} <= set(users)
    assert set(region_principals(region)) <= set(users)
    # Every process logs in as a user with the very password Kafka was given for it.
    for name, service in active.items():
        env = service.get("environment", {})
        for user_key, password_key in (("MASH_KAFKA_USERNAME", "MASH_KAFKA_PASSWORD"),
                                       ("MASH_AGENCY_USERNAME", "MASH_AGENCY_PASSWORD")):
            if user_key in env:
                assert env[password_key] == users[env[user_key]], name


def test_the_hubs_databases_and_ports_are_distinct(region: Region, active: dict[str, dict[str, Any]]) -> None:
    databases = [value for service in active.values() for key, value in service.get("environment", {}).items()
                 if key.endswith("_MONGO_DATABASE")]
    assert len(databases) == len(set(databases)) == len(region.hubs) * (len(SERVICES) + 1)
    published = [_defaults(str(port)).split(":")[1] for service in active.values() for port in service.get("ports", [])]
    assert len(published) == len(set(published)), published
    workspaces = {active[hub.principal("workspace")]["ports"][0] for hub in region.hubs}
    assert workspaces == {"127.0.0.1:8080:8080", "127.0.0.1:8180:8080"}


@pytest.mark.parametrize("path", [BASE_FILE, REGION_COMPOSE], ids=lambda p: p.name)
def test_nothing_publishes_a_port_beyond_loopback(path: Path) -> None:
    services = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", (name, port)
            else:
                host, published, target = _defaults(str(port)).split(":")
                assert host == "127.0.0.1" and published.isdigit() and target.isdigit(), (name, port)
        assert service.get("network_mode") != "host", name


def _run_compose_acls(tmp_path: Path, acl_file: Path) -> set[Grant]:
    """compose-acls.sh with a stand-in kafka-acls.sh that records its arguments: the grants it would make."""
    kafka = tmp_path / "kafka" / "bin"
    kafka.mkdir(parents=True)
    calls = tmp_path / "calls"
    stub = kafka / "kafka-acls.sh"
    stub.write_text(f'#!/bin/bash\nprintf "%s\\n" "$*" >> {shlex.quote(str(calls))}\n', encoding="utf-8")
    stub.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "MASH_KAFKA_PASSWORD_ADMIN": "x", "MASH_ACL_FILE": str(acl_file),
           "MASH_AGENCIES_FILE": str(AGENCIES_FILE), "MASH_KAFKA_HOME": str(tmp_path / "kafka"),
           "TMPDIR": str(tmp_path)}
    subprocess.run(["bash", str(ACLS_SCRIPT)], env=env, check=True, capture_output=True, timeout=60)
    grants: set[Grant] = set()
    for call in calls.read_text(encoding="utf-8").splitlines():
        words = [word for word in call.split() if word != "--add"]  # the one flag without a value
        options: dict[str, list[str]] = {}
        for flag, value in zip(words[::2], words[1::2], strict=True):
            options.setdefault(flag, []).append(value)
        resource, name = ("TOPIC", options["--topic"][0]) if "--topic" in options else ("GROUP", options["--group"][0])
        principal = options["--allow-principal"][0].removeprefix("User:")
        pattern = options["--resource-pattern-type"][0].upper()
        grants |= {(principal, resource, pattern, name, operation) for operation in options["--operation"]}
    return grants


def test_compose_acls_grants_exactly_the_generated_list(tmp_path: Path, override: dict[str, Any],
                                                        region: Region) -> None:
    listed = tmp_path / "region-acls.txt"
    listed.write_text(override["configs"]["region-acls"]["content"], encoding="utf-8")
    expected = {(e.principal, e.resource, e.pattern, e.name, e.operation) for e in region_acl_entries(region)}
    assert _run_compose_acls(tmp_path, listed) == expected


def test_compose_acls_still_grants_the_single_hubs_table(tmp_path: Path) -> None:
    expected = {(e.principal, e.resource, e.pattern, e.name, e.operation)
                for e in acl_entries("", configured_agencies())}
    assert _run_compose_acls(tmp_path, ROOT / "infra" / "kafka" / "acls.txt") == expected
