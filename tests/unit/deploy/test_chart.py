"""The Helm chart, checked without a cluster: linted, rendered for both value sets, every object validated strictly
against the Kubernetes schemas and the operators' CRD schemas, and its Kafka, MongoDB, KEDA and alert resources
compared with the hub's own sources.

There is no Kubernetes cluster on the machines this runs on: rendering plus strict schema validation (kubeconform
-strict: an unknown or misspelt field fails) is the proof that the manifests are what the API server and the
operators accept. The tools come from infra/k8s-tools.sh (started in the background by `make install`; the
first test waits for it).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from mash_runtime.retention import load_retention_schedule

from demo.kafka_access import acl_entries, configured_agencies
from deploy.generate import ALERTS_FILE, CHART, ROOT, contract_topics

pytestmark = [pytest.mark.unit, pytest.mark.chart, pytest.mark.timeout(1800)]

VALUE_SETS = ("values-small-council.yaml", "values-large-council.yaml")
SERVICES = ("intake", "decision", "enquiry", "notify", "insight")


@dataclass(frozen=True)
class Tools:
    """Where infra/k8s-tools.sh installed helm, kubeconform and the schemas."""

    helm: str
    kubeconform: str
    schemas: Path
    kubernetes_version: str

    def helm_run(self, *args: str) -> str:
        """helm's output; the test fails with helm's own words when it fails."""
        done = subprocess.run([self.helm, *args], capture_output=True, text=True, cwd=ROOT, check=False)
        assert done.returncode == 0, f"helm {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def render(self, values: str, *extra: str) -> list[dict[str, Any]]:
        """`helm template` of the chart with `values`, as a list of objects."""
        text = self.helm_run("template", "mash", str(CHART), "--namespace", "mash", "-f", str(CHART / values), *extra)
        return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module")
def tools() -> Tools:
    """Install (or wait for the background install of) the tools; minutes the first time, nothing after."""
    script = ROOT / "infra" / "k8s-tools.sh"
    installed = subprocess.run(["bash", str(script), "install"], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, f"infra/k8s-tools.sh install failed:\n{installed.stderr[-4000:]}"
    paths = dict(line.split("=", 1) for line in subprocess.run(
        ["bash", str(script), "paths"], capture_output=True, text=True, check=True).stdout.split())
    return Tools(paths["HELM"], paths["KUBECONFORM"], Path(paths["SCHEMAS"]), paths["KUBERNETES_VERSION"])


@pytest.fixture(scope="module", params=VALUE_SETS)
def rendered(request: pytest.FixtureRequest, tools: Tools) -> list[dict[str, Any]]:
    """Every object the chart renders with one value set."""
    return tools.render(str(request.param))


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The objects of one kind."""
    return [o for o in objects if o["kind"] == kind]


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A Deployment's first container's environment by name."""
    return {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


@pytest.mark.parametrize("values", VALUE_SETS)
def test_helm_lint_strict(tools: Tools, values: str) -> None:
    tools.helm_run("lint", "--strict", str(CHART), "-f", str(CHART / values))


@pytest.mark.parametrize("values", VALUE_SETS)
def test_every_rendered_object_is_valid_strictly(tools: Tools, values: str) -> None:
    objects = tools.render(values)
    text = tools.helm_run("template", "mash", str(CHART), "--namespace", "mash", "-f", str(CHART / values))
    done = subprocess.run(
        [tools.kubeconform, "-strict", "-summary", "-output", "json", "-kubernetes-version", tools.kubernetes_version,
         "-schema-location",
         str(tools.schemas) + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
         "{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "-schema-location", str(tools.schemas) + "/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
         "-"],
        input=text, capture_output=True, text=True, check=False)
    report = json.loads(done.stdout)
    problems = [r for r in report.get("resources", []) if r.get("status") != "statusValid"]
    assert done.returncode == 0 and not problems, json.dumps(problems, indent=1)[:6000] + done.stderr
    # Nothing skipped for want of a schema: every object, built-in or custom, was checked.
    assert report["summary"] == {"valid": len(objects), "invalid": 0, "errors": 0, "skipped": 0}
    kinds = {o["kind"] for o in objects}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "MongoDBCommunity", "ScaledObject",
            "TriggerAuthentication", "ServiceMonitor", "PrometheusRule", "NetworkPolicy", "Ingress",
            "PodDisruptionBudget", "Deployment", "Service"} <= kinds


def test_strict_validation_refuses_a_misspelt_field(tools: Tools) -> None:
    """The check above can fail: a KafkaTopic with a field Strimzi does not know is refused."""
    topic = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "t"},
             "spec": {"partitions": 3, "replica": 3}}
    done = subprocess.run(
        [tools.kubeconform, "-strict", "-schema-location",
         str(tools.schemas) + "/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json", "-"],
        input=yaml.safe_dump(topic), capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "replica" in done.stdout


def test_kafka_users_grant_exactly_acls_txt(rendered: list[dict[str, Any]]) -> None:
    pattern = {"literal": "LITERAL", "prefix": "PREFIXED"}
    granted = {(user["metadata"]["name"], acl["resource"]["type"].upper(), pattern[acl["resource"]["patternType"]],
                acl["resource"]["name"], operation.upper())
               for user in of_kind(rendered, "KafkaUser")
               for acl in user["spec"]["authorization"]["acls"] for operation in acl["operations"]}
    table = {(e.principal, e.resource, e.pattern, e.name, e.operation) for e in acl_entries("", configured_agencies())}
    assert granted == table
    for user in of_kind(rendered, "KafkaUser"):
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"


def test_kafka_topics_are_the_contracts(rendered: list[dict[str, Any]]) -> None:
    schedule = load_retention_schedule()
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(rendered, "KafkaTopic")}
    assert set(topics) == set(contract_topics(configured_agencies()))
    for name, spec in topics.items():
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        kept = schedule.topic_retention(name)
        assert kept is not None
        assert spec["config"]["retention.ms"] == int(kept.total_seconds() * 1000)


def test_kafka_runs_kraft_with_three_brokers_and_three_controllers(rendered: list[dict[str, Any]]) -> None:
    pools = {p["metadata"]["name"]: p["spec"] for p in of_kind(rendered, "KafkaNodePool")}
    assert pools["controllers"]["roles"] == ["controller"] and pools["controllers"]["replicas"] == 3
    assert pools["brokers"]["roles"] == ["broker"] and pools["brokers"]["replicas"] == 3
    (kafka,) = of_kind(rendered, "Kafka")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert [listener["authentication"]["type"] for listener in kafka["spec"]["kafka"]["listeners"]] == ["scram-sha-512"]


def test_each_consumer_scales_on_its_groups_lag_up_to_its_partitions(rendered: list[dict[str, Any]]) -> None:
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(rendered, "KafkaTopic")}
    catalogue = yaml.safe_load((CHART / "files" / "catalogue.yaml").read_text(encoding="utf-8"))
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"] for s in of_kind(rendered, "ScaledObject")}
    for service in SERVICES:
        spec = scaled[service]
        triggers = {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in spec["triggers"]}
        assert triggers == {(c["group"], c["topic"]) for c in catalogue["consumers"][service]}
        assert spec["maxReplicaCount"] == max(partitions[topic] for _, topic in triggers)
        for trigger in spec["triggers"]:
            assert trigger["type"] == "kafka" and trigger["metadata"]["sasl"] == "scram_sha512"


def test_hosted_agency_kits_scale_per_agency(rendered: list[dict[str, Any]]) -> None:
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(rendered, "KafkaTopic")}
    kits = [d for d in of_kind(rendered, "Deployment") if d["metadata"]["name"].startswith("agency-")]
    assert kits
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"] for s in of_kind(rendered, "ScaledObject")}
    for kit in kits:
        agency = kit["metadata"]["name"].removeprefix("agency-")
        (trigger,) = scaled[kit["metadata"]["name"]]["triggers"]
        assert trigger["metadata"]["consumerGroup"] == f"agency-{agency}"
        assert trigger["metadata"]["topic"] == f"mash.enquiry.request.{agency}"
        assert scaled[kit["metadata"]["name"]]["maxReplicaCount"] == partitions[f"mash.enquiry.request.{agency}"]


def test_large_council_partitions_raise_the_scaling_ceiling(tools: Tools) -> None:
    small = {s["metadata"]["name"]: s["spec"]["maxReplicaCount"]
             for s in of_kind(tools.render("values-small-council.yaml"), "ScaledObject")}
    large = {s["metadata"]["name"]: s["spec"]["maxReplicaCount"]
             for s in of_kind(tools.render("values-large-council.yaml"), "ScaledObject")}
    assert small["decision"] == 3 and large["decision"] == 12
    assert large["agency-early-help"] == 6


def test_mongodb_is_a_replica_set_with_a_user_per_service_database(rendered: list[dict[str, Any]]) -> None:
    (mongo,) = of_kind(rendered, "MongoDBCommunity")
    assert mongo["spec"]["type"] == "ReplicaSet" and mongo["spec"]["members"] == 3
    users = {u["name"]: u for u in mongo["spec"]["users"]}
    assert set(users) == set(SERVICES)
    for service, user in users.items():
        assert user["roles"] == [{"name": "readWrite", "db": f"mash_{service}"}]
        assert "password" not in user and user["passwordSecretRef"]["name"] == f"mash-mongo-{service}"
    for deployment in of_kind(rendered, "Deployment"):
        name = deployment["metadata"]["name"]
        if name in SERVICES:
            url = env_of(deployment)["MASH_MONGO_URL"]["value"]
            assert url.startswith(f"mongodb://{name}:$(MASH_MONGO_PASSWORD)@")
            assert f"?replicaSet={mongo['metadata']['name']}&" in url
            assert env_of(deployment)[f"MASH_{name.upper()}_MONGO_DATABASE"]["value"] == f"mash_{name}"


def test_no_secret_is_rendered_and_every_credential_is_by_name(rendered: list[dict[str, Any]]) -> None:
    assert not of_kind(rendered, "Secret")
    for deployment in of_kind(rendered, "Deployment"):
        for name, entry in env_of(deployment).items():
            if any(word in name for word in ("PASSWORD", "SECRET", "KEYS", "SESSION_KEY")):
                assert "valueFrom" in entry and "value" not in entry, f"{deployment['metadata']['name']}: {name}"


def test_pods_run_unprivileged_on_a_read_only_root(rendered: list[dict[str, Any]]) -> None:
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
        if deployment["metadata"]["name"] in (*SERVICES, "workspace"):
            container = pod["containers"][0]
            assert container["startupProbe"]["httpGet"]["path"] == "/health"
            assert container["livenessProbe"]["httpGet"]["path"] == "/health"
            assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_only_the_workspace_reaches_decision(rendered: list[dict[str, Any]]) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(rendered, "NetworkPolicy")}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (rule,) = policies["decision"]["ingress"]
    pods = [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["from"] if "podSelector" in peer]
    namespaces = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                  for peer in rule["from"] if "namespaceSelector" in peer]
    assert pods == ["workspace"]
    assert namespaces == ["monitoring"]  # Prometheus scraping /metrics: the one exception, documented


def test_prometheus_rule_carries_alerts_yml(rendered: list[dict[str, Any]]) -> None:
    (rule,) = of_kind(rendered, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(ALERTS_FILE.read_text(encoding="utf-8"))
    (monitor,) = of_kind(rendered, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_keda_triggers_use_only_what_the_kafka_scaler_reads(tools: Tools, rendered: list[dict[str, Any]]) -> None:
    """KEDA's CRD leaves a trigger's metadata free-form; the scaler's own source (v2.21.1) names what it reads."""
    parameters = json.loads((tools.schemas / "crds" / "keda-kafka-scaler.json").read_text(encoding="utf-8"))
    for scaled in of_kind(rendered, "ScaledObject"):
        for trigger in scaled["spec"]["triggers"]:
            for key, value in trigger["metadata"].items():
                assert "triggerMetadata" in parameters[key]["from"], f"{key} is not read from trigger metadata"
                assert not parameters[key]["enum"] or value in parameters[key]["enum"], f"{key}: {value}"
    for authentication in of_kind(rendered, "TriggerAuthentication"):
        for reference in authentication["spec"]["secretTargetRef"]:
            assert "authParams" in parameters[reference["parameter"]]["from"], reference
