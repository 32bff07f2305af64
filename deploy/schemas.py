"""JSON schemas for kubeconform, laid out as it looks them up, from what the package registries carry.

kubeconform validates each rendered object against `<kind><-group-version>.json` and, for custom resources, a file per
group, kind and version. Its own schemas live on GitHub, which this project's machines cannot reach, so
infra/k8s-tools.sh builds them at install time from two sources:

- Kubernetes' own kinds: the PyPI package kubernetes-validate ships, per Kubernetes version, one strict JSON schema
  per kind (no unknown fields) whose `$ref`s point into a shared `_definitions.json`. `kubernetes` writes each kind
  stand-alone: the kind's schema with only the definitions it reaches, under its own `$defs` (the idea of
  kubeconform's openapi2jsonschema "standalone" mode, written here for this layout).
- Custom resources: each CustomResourceDefinition's `openAPIV3Schema` per served version (`crds`). Strict as
  openapi2jsonschema's strict mode: an object that lists its properties and says nothing of others accepts no
  others (unless the CRD says x-kubernetes-preserve-unknown-fields); `nullable` admits null;
  x-kubernetes-int-or-string admits either.

KEDA's CRD types a trigger's `metadata` as a map of strings, so no schema says which keys its Kafka scaler reads.
`kafka-scaler` reads them from the scaler's own source in KEDA's module (the `keda:"name=...,order=..."` tags of
pkg/scalers/kafka_scaler.go): each parameter, where it may come from (trigger metadata, a TriggerAuthentication)
and its allowed values, for tests/unit/deploy to check the chart's triggers against.

    python -m deploy.schemas kubernetes <kubernetes-validate's vX.Y.Z-local-strict dir> <out dir>
    python -m deploy.schemas crds <out dir> <crd.yaml>...
    python -m deploy.schemas kafka-scaler <kafka_scaler.go> <out.json>
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

DEFINITIONS = "_definitions.json"


def _refs(node: Any) -> Iterable[str]:
    """Every `$ref` under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _local(node: Any) -> Any:
    """`node` with every `<file>#/$defs/X` reference made local (`#/$defs/X`)."""
    if isinstance(node, dict):
        return {key: ("#" + value.split("#", 1)[1] if key == "$ref" and isinstance(value, str) and "#" in value
                      else _local(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [_local(item) for item in node]
    return node


def standalone(kind_schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`kind_schema` with the definitions it reaches (transitively) under its own `$defs`."""
    wanted: set[str] = set()
    pending = [ref.rsplit("/", 1)[1] for ref in _refs(kind_schema) if "#/$defs/" in ref]
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted.add(name)
        pending += [ref.rsplit("/", 1)[1] for ref in _refs(definitions[name]) if "#/$defs/" in ref]
    schema: dict[str, Any] = _local(kind_schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$defs"] = {name: _local(definitions[name]) for name in sorted(wanted)}
    return schema


def kubernetes(source: Path, target: Path) -> int:
    """Write every kind of `source` stand-alone into `target`; returns how many."""
    definitions = json.loads((source / DEFINITIONS).read_text(encoding="utf-8"))["$defs"]
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.glob("*.json")):
        if path.name in (DEFINITIONS, "all.json"):
            continue
        schema = standalone(json.loads(path.read_text(encoding="utf-8")), definitions)
        (target / path.name).write_text(json.dumps(schema, separators=(",", ":")), encoding="utf-8")
        count += 1
    return count


def strict(node: Any) -> Any:
    """An OpenAPI v3 schema of a CRD as a strict JSON schema (see the module's docstring)."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()
           if key not in ("nullable", "x-kubernetes-int-or-string")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        if "anyOf" not in out:
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def crds(target: Path, files: Iterable[Path]) -> list[str]:
    """Write `<group>/<kind>_<version>.json` for every version of every CRD in `files`; returns their names."""
    written: list[str] = []
    for path in files:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec["versions"]:
                schema = strict(version["schema"]["openAPIV3Schema"])
                name = f"{spec['group']}/{spec['names']['kind'].lower()}_{version['name']}.json"
                (target / spec["group"]).mkdir(parents=True, exist_ok=True)
                (target / name).write_text(json.dumps(schema, separators=(",", ":")), encoding="utf-8")
                written.append(name)
    return written


def kafka_scaler_parameters(source: str) -> dict[str, dict[str, Any]]:
    """The parameters KEDA's Kafka scaler reads, from its struct tags: {name: {"from": [...], "enum": [...]}}."""
    parameters: dict[str, dict[str, Any]] = {}
    for tag in re.findall(r'keda:"([^"]*)"', source):
        fields = dict(part.split("=", 1) for part in tag.split(",") if "=" in part)
        if "name" not in fields:
            continue
        parameters[fields["name"]] = {
            "from": fields.get("order", "").split(";"),
            "enum": fields["enum"].split(";") if "enum" in fields else [],
        }
    return parameters


def main(argv: list[str] | None = None) -> int:
    """Command line: `kubernetes SOURCE TARGET` or `crds TARGET CRD...`."""
    parser = argparse.ArgumentParser(prog="python -m deploy.schemas", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    k8s = commands.add_parser("kubernetes", help="stand-alone schemas of Kubernetes' kinds")
    k8s.add_argument("source", type=Path)
    k8s.add_argument("target", type=Path)
    crd = commands.add_parser("crds", help="schemas of custom resources from their CRDs")
    crd.add_argument("target", type=Path)
    crd.add_argument("files", type=Path, nargs="+")
    scaler = commands.add_parser("kafka-scaler", help="the parameters of KEDA's Kafka scaler, from its source")
    scaler.add_argument("source", type=Path)
    scaler.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    if args.command == "kubernetes":
        print(f"schemas: {kubernetes(args.source, args.target)} Kubernetes kinds in {args.target}")
    elif args.command == "kafka-scaler":
        parameters = kafka_scaler_parameters(args.source.read_text(encoding="utf-8"))
        if not {"bootstrapServers", "consumerGroup", "sasl"} <= set(parameters):
            raise SystemExit(f"{args.source}: no Kafka scaler parameters found")
        args.target.write_text(json.dumps(parameters, indent=1, sort_keys=True), encoding="utf-8")
        print(f"schemas: {len(parameters)} Kafka scaler parameters in {args.target}")
    else:
        print(f"schemas: {len(crds(args.target, args.files))} custom resource versions in {args.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
