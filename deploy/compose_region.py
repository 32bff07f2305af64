"""Write docker-compose.region.yml: a region's hubs (Westshire and Eastshire) on docker compose's one Kafka and MongoDB.

docker-compose.yml runs one hub without a namespace. A region (docs/federation.md) runs several councils' hubs
on one cluster, each its own: its own services, namespace, databases, Kafka principals and keys, with the
agencies and police forces they share running once. Everything that says who is who already has one home:

- the hubs, their namespaces, member agencies and police forces: the region file (`mash_runtime.region`;
  the packaged example, runtime/src/mash_runtime/region.example.yaml, unless --region names another);
- the principals and their ACLs: `demo.kafka_access.region_principals` and `region_acl_entries`, expanded from
  infra/kafka/acls.txt by the same code the native stack, the demo and the region tests use;
- the infrastructure (Kafka, MongoDB, tracing, Mailpit, Prometheus, Grafana): docker-compose.yml itself.

So the region's compose file is an OVERRIDE, generated from those sources:

    docker compose -f docker-compose.yml -f docker-compose.region.yml up -d --build

It keeps the base file's infrastructure, switches its single hub off (its hub services and agency kits get the
profile `single-hub`), adds each hub's five services and workspace as `<hub id>-<service>`, one agency kit per
agency answering every hub that lists it (MASH_AGENCY_NAMESPACES), one police router per force, the region's
SCRAM users (Kafka's environment: compose-start.sh creates a user per MASH_KAFKA_PASSWORD_<PRINCIPAL>) and its
ACLs (a generated list that kafka-init grants with compose-acls.sh). `python -m deploy.compose_region` rewrites
it; `--check` (and tests/unit/deploy/test_compose_region.py, in `make test`) fails when the committed file
differs from what the sources give now.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from mash_runtime.region import Region, RegionHub, load_region

from demo.kafka_access import ACL_TABLE, SERVICES, AclEntry, agency_principal, region_acl_entries, region_principals

ROOT = Path(__file__).resolve().parents[1]
BASE_FILE = ROOT / "docker-compose.yml"
REGION_COMPOSE = ROOT / "docker-compose.region.yml"
EXAMPLE_REGION = ROOT / "runtime" / "src" / "mash_runtime" / "region.example.yaml"
# The base file's services that the region keeps as they are; every other one is the single hub's, switched off.
INFRASTRUCTURE = ("kafka", "kafka-init", "mongo", "otel-collector", "jaeger", "mailpit", "prometheus", "grafana")
SINGLE_HUB_PROFILE = "single-hub"
# Where containers find the region file (a compose config made from the file the generator read).
REGION_IN_CONTAINER = "/etc/mash/region.yaml"
ACLS_IN_CONTAINER = "/mash/region-acls.txt"
SERVICE_PORTS = {"intake": 8001, "decision": 8002, "enquiry": 8003, "notify": 8004, "insight": 8005}
WORKSPACE_PORT = 8080
HOST_PORT_STEP = 100  # the n-th hub (from 0) publishes each port at <port> + 100 n on 127.0.0.1
KAFKA = "kafka:19092"
# The code's development-only values (every service refuses them under MASH_ENVIRONMENT=production).
DEV_JWT_SECRET = "development-only-jwt-secret-change-me-0123456789"  # noqa: S105
DEV_SEALING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1zZWFsaW5nLWtleS0wMDA="
DEV_SESSION_KEY = "ZGV2ZWxvcG1lbnQtb25seS13b3Jrc3BhY2Uta2V5LTA="
DEV_CLIENT_SECRET = "development-only-workspace-client-secret"  # noqa: S105


def password_variable(principal: str) -> str:
    """The variable holding a principal's password, as compose-start.sh reads it back (westshire-intake ->
    MASH_KAFKA_PASSWORD_WESTSHIRE_INTAKE; principals have no underscores, so the mapping is one-to-one)."""
    return "MASH_KAFKA_PASSWORD_" + principal.upper().replace("-", "_")


def principal_of_variable(variable: str) -> str:
    """The principal compose-start.sh creates for a MASH_KAFKA_PASSWORD_<PRINCIPAL> variable."""
    return variable.removeprefix("MASH_KAFKA_PASSWORD_").lower().replace("_", "-")


def password(principal: str) -> str:
    """The password setting: from the shell or .env, else a development-only fallback (as docker-compose.yml)."""
    return f"${{{password_variable(principal)}:-development-only-kafka-{principal}}}"


def hub_variable(hub: RegionHub, name: str) -> str:
    """A per-hub setting's variable in the shell or .env: MASH_<HUB>_<NAME>, e.g. MASH_EASTSHIRE_JWT_SECRET."""
    return f"MASH_{hub.id.upper().replace('-', '_')}_{name}"


def host_port(index: int, port: int) -> str:
    """The published port of the index-th hub's container port `port`: on 127.0.0.1 only."""
    return f"127.0.0.1:{port + HOST_PORT_STEP * index}:{port}"


def acl_lines(entries: list[AclEntry]) -> str:
    """The region's ACLs in acls.txt's five columns, one line per resource with its operations together.

    No placeholders remain, so compose-acls.sh grants each line once, as written.
    """
    rules: dict[tuple[str, str, str, str], list[str]] = {}
    for entry in entries:
        operations = rules.setdefault((entry.principal, entry.resource, entry.pattern, entry.name), [])
        if entry.operation not in operations:
            operations.append(entry.operation)
    width = max(len(principal) for principal, *_ in rules)
    name_width = max(len(name) for *_, name in rules)
    return "".join(f"{principal:<{width}} {resource:<8} {pattern:<8} {name:<{name_width}} {','.join(operations)}\n"
                   for (principal, resource, pattern, name), operations in rules.items())


def _healthcheck(url: str, interval: str = "5s", start: str = "120s") -> dict[str, Any]:
    return {"test": ["CMD", "python", "-c", f"import urllib.request as r; r.urlopen('{url}', timeout=4)"],
            "interval": interval, "timeout": "5s", "start_period": start, "retries": 3}


def _kafka_reachable() -> dict[str, Any]:
    # Processes without HTTP (the kits, the routers): healthy means the cluster accepts a connection.
    return {"test": ["CMD", "python", "-c",
                     "import socket; socket.create_connection(('kafka', 19092), timeout=4).close()"],
            "interval": "30s", "timeout": "5s", "start_period": "20s", "retries": 3}


def _build(service: str, port: int) -> dict[str, Any]:
    return {"context": ".", "dockerfile": "services/Dockerfile", "args": {"SERVICE": service, "PORT": str(port)}}


def _region_config() -> list[dict[str, str]]:
    return [{"source": "region", "target": REGION_IN_CONTAINER}]


def _hub_env(hub: RegionHub) -> dict[str, str]:
    """What every process of one hub shares: docker-compose.yml's x-hub-env, with the hub's namespace and keys."""
    return {
        "MASH_ENVIRONMENT": "${MASH_ENVIRONMENT:-development}",
        "MASH_KAFKA_BOOTSTRAP": KAFKA,
        "MASH_MONGO_URL": "mongodb://mongo:27017",
        "MASH_OTLP_ENDPOINT": "http://otel-collector:4318/v1/traces",
        "MASH_TOPIC_PARTITIONS": "3",
        "MASH_LOG_LEVEL": "${MASH_LOG_LEVEL:-INFO}",
        "MASH_TOPIC_NAMESPACE": hub.namespace,
        "MASH_REGION_FILE": REGION_IN_CONTAINER,
        # Each council's own keys and identity provider (docs/federation.md): a token or seal of one hub is
        # worthless at the other once these are set. Unset, both fall back to the code's development-only values.
        "MASH_JWT_SECRET": f"${{{hub_variable(hub, 'JWT_SECRET')}:-{DEV_JWT_SECRET}}}",
        "MASH_SEALING_KEYS": f"${{{hub_variable(hub, 'SEALING_KEYS')}:-{DEV_SEALING_KEY}}}",
        "MASH_OIDC_ISSUER": f"${{{hub_variable(hub, 'OIDC_ISSUER')}:-}}",
        "MASH_OIDC_AUDIENCE": f"${{{hub_variable(hub, 'OIDC_AUDIENCE')}:-mash-{hub.id}}}",
    }


def hub_services(region: Region, index: int, hub: RegionHub) -> dict[str, dict[str, Any]]:
    """One hub's five services and its workspace, named <hub id>-<service>."""
    services: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        port = SERVICE_PORTS[service]
        principal = hub.principal(service)
        environment = {
            **_hub_env(hub),
            f"MASH_{service.upper()}_MONGO_DATABASE": hub.database(service),
            "MASH_KAFKA_USERNAME": principal,
            "MASH_KAFKA_PASSWORD": password(principal),
        }
        definition: dict[str, Any] = {
            "build": _build(service, port),
            "image": f"mash/{service}:${{MASH_IMAGE_TAG:-dev}}",
            "restart": "unless-stopped",
            "stop_grace_period": "30s",
            "depends_on": {"kafka": {"condition": "service_healthy"}, "mongo": {"condition": "service_healthy"},
                           "otel-collector": {"condition": "service_started"},
                           "kafka-init": {"condition": "service_completed_successfully"}},
            "environment": environment,
            "configs": _region_config(),
            "ports": [host_port(index, port)],
            "healthcheck": _healthcheck(f"http://127.0.0.1:{port}/health"),
        }
        if service == "decision":
            # Issue 23: no decision without the child's voice (docs/decision.md). The code's default stays off
            # while older callers are brought up to date; every deployment turns it on.
            environment |= {"MASH_DECISION_REQUIRE_CHILDS_VOICE": "true"}
        if service == "notify":
            environment |= {"MASH_NOTIFY_SMTP_HOST": "mailpit", "MASH_NOTIFY_SMTP_PORT": "1025",
                            "MASH_NOTIFY_RECIPIENTS_FILE": "/etc/mash/recipients.yaml"}
            definition["configs"] = [*_region_config(), {"source": "notify-recipients",
                                                         "target": "/etc/mash/recipients.yaml"}]
        services[principal] = definition
    public_url = f"http://127.0.0.1:{WORKSPACE_PORT + HOST_PORT_STEP * index}"
    services[hub.principal("workspace")] = {
        "build": _build("workspace", WORKSPACE_PORT),
        "image": "mash/workspace:${MASH_IMAGE_TAG:-dev}",
        "restart": "unless-stopped",
        "stop_grace_period": "10s",
        "depends_on": {"mongo": {"condition": "service_healthy"},
                       **{hub.principal(service): {"condition": "service_started"} for service in SERVICES}},
        "environment": {
            **_hub_env(hub),
            "MASH_WORKSPACE_MONGO_DATABASE": hub.database("workspace"),
            **{f"MASH_WORKSPACE_{service.upper()}_URL": f"http://{hub.principal(service)}:{SERVICE_PORTS[service]}"
               for service in SERVICES},
            "MASH_WORKSPACE_PUBLIC_URL": f"${{{hub_variable(hub, 'WORKSPACE_PUBLIC_URL')}:-{public_url}}}",
            "MASH_WORKSPACE_COUNCIL_NAME": hub.name,
            "MASH_WORKSPACE_OIDC_CLIENT_ID": f"${{{hub_variable(hub, 'WORKSPACE_OIDC_CLIENT_ID')}:-mash-workspace}}",
            "MASH_WORKSPACE_OIDC_CLIENT_SECRET":
                f"${{{hub_variable(hub, 'WORKSPACE_OIDC_CLIENT_SECRET')}:-{DEV_CLIENT_SECRET}}}",
            "MASH_WORKSPACE_SESSION_KEY": f"${{{hub_variable(hub, 'WORKSPACE_SESSION_KEY')}:-{DEV_SESSION_KEY}}}",
        },
        "configs": _region_config(),
        "ports": [host_port(index, WORKSPACE_PORT)],
        "healthcheck": _healthcheck(f"http://127.0.0.1:{WORKSPACE_PORT}/health", interval="10s", start="30s"),
    }
    return services


def agency_kits(region: Region) -> dict[str, dict[str, Any]]:
    """One kit per agency of the region, answering every hub that lists it, as its one principal."""
    kits: dict[str, dict[str, Any]] = {}
    for agency in region.agencies():
        principal = agency_principal(agency)
        kits[f"{region.id}-{principal}"] = {
            "build": {"context": ".", "dockerfile": "agency/Dockerfile"},
            "image": "mash/agency:${MASH_IMAGE_TAG:-dev}",
            "restart": "unless-stopped",
            "stop_grace_period": "20s",
            "depends_on": {"kafka-init": {"condition": "service_completed_successfully"}},
            "command": ["run", "--agency", agency],
            "environment": {
                "MASH_AGENCY_BOOTSTRAP_SERVERS": KAFKA,
                "MASH_AGENCY_CREATE_TOPICS": "false",
                "MASH_AGENCY_RESPONSE_DELAY": "${MASH_AGENCY_RESPONSE_DELAY:-0.5-2.0}",
                "MASH_AGENCY_NAMESPACES": ",".join(hub.namespace for hub in region.hubs_of_agency(agency)),
                "MASH_AGENCY_USERNAME": principal,
                "MASH_AGENCY_PASSWORD": password(principal),
            },
            "healthcheck": _kafka_reachable(),
        }
    return kits


def police_routers(region: Region) -> dict[str, dict[str, Any]]:
    """One router per police force: its one feed in, each notification out to the hub of the child's area."""
    routers: dict[str, dict[str, Any]] = {}
    for force in region.police_forces:
        default_hub = region.hub(force.default_hub)
        hub_env = _hub_env(default_hub)
        routers[force.router_principal] = {
            "build": _build("intake", SERVICE_PORTS["intake"]),
            "image": "mash/intake:${MASH_IMAGE_TAG:-dev}",
            "command": ["python", "-m", "mash_intake.police_router"],
            "restart": "unless-stopped",
            "stop_grace_period": "20s",
            "depends_on": {"kafka": {"condition": "service_healthy"},
                           "otel-collector": {"condition": "service_started"},
                           "kafka-init": {"condition": "service_completed_successfully"}},
            "environment": {
                **{key: hub_env[key] for key in ("MASH_ENVIRONMENT", "MASH_KAFKA_BOOTSTRAP", "MASH_OTLP_ENDPOINT",
                                                  "MASH_TOPIC_PARTITIONS", "MASH_LOG_LEVEL")},
                "MASH_REGION_FILE": REGION_IN_CONTAINER,
                "MASH_POLICE_ROUTER_FORCE": force.id,
                "MASH_KAFKA_USERNAME": force.router_principal,
                "MASH_KAFKA_PASSWORD": password(force.router_principal),
                # The router uses none of these, but every process's settings refuse the development values in
                # production: it is given its default hub's (where it sets aside what is not a notification).
                **{key: hub_env[key] for key in ("MASH_JWT_SECRET", "MASH_SEALING_KEYS", "MASH_OIDC_ISSUER")},
            },
            "configs": _region_config(),
            # No HTTP port (docs/federation.md, "Not yet"): the image's own healthcheck would call one.
            "healthcheck": _kafka_reachable(),
        }
    return routers


def prometheus_config(region: Region) -> str:
    """infra/monitoring/prometheus.yml for the region: the same job, every hub's services, labelled by hub."""
    config = {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": ["/etc/prometheus/alerts.yml"],
        "scrape_configs": [{
            "job_name": "mash",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [f"{hub.principal(s)}:{SERVICE_PORTS[s]}" for s in SERVICES],
                                "labels": {"hub": hub.id}} for hub in region.hubs],
        }],
    }
    return yaml.safe_dump(config, sort_keys=False, width=200)


def _relative(path: Path) -> str:
    resolved = path.resolve()
    return f"./{resolved.relative_to(ROOT)}" if resolved.is_relative_to(ROOT) else str(resolved)


def build_override(region: Region, region_path: Path) -> dict[str, Any]:
    """The override file's content, from the region, its ACLs and the base file's services."""
    base = yaml.safe_load(BASE_FILE.read_text(encoding="utf-8"))
    single_hub = [name for name in base["services"] if name not in INFRASTRUCTURE]
    principals = region_principals(region)
    services: dict[str, Any] = {name: {"profiles": [SINGLE_HUB_PROFILE]} for name in single_hub}
    services["kafka"] = {"environment": {password_variable(p): password(p) for p in principals}}
    services["kafka-init"] = {
        # compose-acls.sh grants this list instead of infra/kafka/acls.txt; it names no {ns} or {agency}.
        "environment": {"MASH_ACL_FILE": ACLS_IN_CONTAINER},
        "configs": [{"source": "region-acls", "target": ACLS_IN_CONTAINER}],
    }
    services["prometheus"] = {
        "command": ["--config.file=/etc/prometheus/region.yml", "--storage.tsdb.retention.time=15d"],
        "configs": [{"source": "region-prometheus", "target": "/etc/prometheus/region.yml"}],
    }
    for index, hub in enumerate(region.hubs):
        services |= hub_services(region, index, hub)
    services |= agency_kits(region)
    services |= police_routers(region)
    return {
        "name": f"mash-{region.id}",
        "services": services,
        "configs": {
            "region": {"file": _relative(region_path)},
            "region-acls": {"content": acl_lines(region_acl_entries(region))},
            "region-prometheus": {"content": prometheus_config(region)},
        },
    }


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line text (the ACL list), and no anchors: every service is written out whole."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def header(region: Region, region_path: Path) -> str:
    """The file's leading comment: what it is, how to use it, and how it is checked."""
    hubs = region.hubs
    lines = [
        "# GENERATED by `python -m deploy.compose_region`; do not edit (regenerate after changing the region file,",
        f"# {ACL_TABLE.relative_to(ROOT)} or docker-compose.yml).",
        f"# The region {region.name!r} ({_relative(region_path)}):",
        f"# {', '.join(f'{hub.name} ({hub.id})' for hub in hubs)}, on docker compose's one Kafka and",
        "# one MongoDB, sharing the agencies' kits and the police forces' routers (docs/federation.md).",
        "# An override of docker-compose.yml, which keeps its infrastructure and switches its single hub off:",
        "#",
        "#   docker compose -f docker-compose.yml -f docker-compose.region.yml up -d --build",
        "#   docker compose -f docker-compose.yml -f docker-compose.region.yml down   # add -v to delete the data",
        "#",
    ]
    for index, hub in enumerate(hubs):
        ports = ", ".join(str(SERVICE_PORTS[s] + HOST_PORT_STEP * index) for s in SERVICES)
        lines.append(f"#   {hub.name}: workspace http://127.0.0.1:{WORKSPACE_PORT + HOST_PORT_STEP * index}, "
                     f"services {ports}; namespace {hub.namespace}")
    lines += [
        "#",
        "# Each hub's services are <hub id>-<service> (westshire-intake), log in to Kafka as that principal",
        "# (password MASH_KAFKA_PASSWORD_<HUB>_<SERVICE>), use the hub's namespace and databases",
        f"# (<namespace>_<service>) and read the region file at {REGION_IN_CONTAINER}.",
        "# Each hub has its own keys and identity provider: MASH_<HUB>_JWT_SECRET, MASH_<HUB>_SEALING_KEYS,",
        "# MASH_<HUB>_OIDC_ISSUER, MASH_<HUB>_OIDC_AUDIENCE (default mash-<hub id>), MASH_<HUB>_WORKSPACE_*;",
        "# unset, they fall back to the code's development-only values, refused under MASH_ENVIRONMENT=production.",
        "# Each agency runs one kit (<region id>-agency-<agency>) answering every hub that lists it",
        "# (MASH_AGENCY_NAMESPACES); each police force one router (police-router-<force>, python -m",
        "# mash_intake.police_router). The force's own system sends its one feed as police-feed-<force> to",
        "# 127.0.0.1:9092. The project is named apart from the single hub's (volumes of its own), because",
        "# Kafka creates its users only when its volume is first formatted.",
        "#",
        "# The users and ACLs come from demo/kafka_access.py (region_principals, region_acl_entries), expanded from",
        f"# {ACL_TABLE.relative_to(ROOT)}; kafka-init grants the list below (configs: region-acls) with",
        "# infra/kafka/compose-acls.sh.",
        "# Checked by rendering, not run: tests/unit/deploy/test_compose_region.py fails when this file and its",
        "# sources disagree (regenerate), and checks the principals, namespaces, databases and ports.",
        "",
    ]
    return "\n".join(lines) + "\n"


def render(region: Region, region_path: Path) -> str:
    """The override file's text: the header, then YAML in a stable order."""
    body = yaml.dump(build_override(region, region_path), Dumper=_Dumper, sort_keys=False, width=120,
                     allow_unicode=True)
    return header(region, region_path) + body


def main(argv: list[str] | None = None) -> int:
    """Write the override, or with --check say whether the committed one is current (exit 1 if not)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.compose_region", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file; write nothing")
    parser.add_argument("--region", type=Path, default=EXAMPLE_REGION, help="the region file (default: the example)")
    parser.add_argument("--output", type=Path, default=REGION_COMPOSE, help="where to write the override")
    args = parser.parse_args(argv)
    text = render(load_region(args.region), args.region)
    shown = _relative(args.output)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{shown} is stale: run `python -m deploy.compose_region`", file=sys.stderr)
            return 1
        print(f"{shown} is current")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
