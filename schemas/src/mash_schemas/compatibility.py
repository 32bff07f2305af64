"""Does the contract still read and write what the released one did? A check of the JSON Schemas.

Services and agencies deploy independently, so for a while a new producer meets old consumers and old
producers meet new consumers. Under one schema_version that is safe only if the change is additive. This
compares each generated schema (schemas/json) with the released one (schemas/json/released) and names
every change that breaks that promise:

- an event, or a property of any object in it, removed (an old reader still requires or uses it);
- a property newly required (an old writer does not send it);
- a type or an enumeration narrowed (an old writer's value is refused).

Loosening (a new optional property, a type or enumeration widened, `additionalProperties` allowed) passes.
A breaking change belongs in a new schema_version with an upcaster (mash_schemas.evolution); such an event's
schema is compared with the released one only if the released one has the same version, since the
upcaster is what carries the old version over.

    python -m mash_schemas.compatibility [--released DIR] [--current DIR]   # exit 1 on a breaking change
    python -m mash_schemas.compatibility --cut-release                       # current becomes the release
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

JSON_DIR = Path(__file__).resolve().parents[2] / "json"
RELEASED_DIR = JSON_DIR / "released"
SUFFIX = ".schema.json"
Schema = dict[str, Any]
_MAX_DEPTH = 40


def load_schemas(folder: Path) -> dict[str, Schema]:
    """Event type -> JSON Schema, from the `*.schema.json` files directly in `folder`."""
    return {
        path.name.removesuffix(SUFFIX): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob(f"*{SUFFIX}"))
    }


def breaking_changes(released: dict[str, Schema], current: dict[str, Schema]) -> list[str]:
    """Every breaking change from `released` to `current`, as readable lines (empty: compatible)."""
    problems: list[str] = []
    for event_type, old in sorted(released.items()):
        new = current.get(event_type)
        if new is None:
            problems.append(f"{event_type}: the event was removed")
            continue
        if _written_version(old) != _written_version(new):
            continue  # a new schema_version: the upcaster from the released version carries it over
        _compare(old, new, old, new, event_type, problems, 0)
    return problems


def _written_version(schema: Schema) -> Any:
    return schema.get("properties", {}).get("schema_version", {}).get("default", 1)


def _resolve(node: Any, root: Schema) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < _MAX_DEPTH:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node


def _branches(node: Any, root: Schema) -> list[Any]:
    """The alternatives a value may take: anyOf/oneOf flattened, references resolved."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return [node]
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [branch for option in node[key] for branch in _branches(option, root)]
    return [node]


def _types(node: Any, root: Schema) -> set[str] | None:
    """The JSON types a value may have, or None when any is allowed."""
    found: set[str] = set()
    for branch in _branches(node, root):
        if not isinstance(branch, dict):
            return None
        kind = branch.get("type")
        if isinstance(kind, str):
            found.add(kind)
        elif isinstance(kind, list):
            found.update(k for k in kind if isinstance(k, str))
        elif "properties" in branch:
            found.add("object")
        elif "const" in branch or "enum" in branch:
            values = [branch["const"]] if "const" in branch else list(branch["enum"])
            found.update(_json_type(value) for value in values)
        else:
            return None
    return found


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(node: Any, root: Schema) -> set[str] | None:
    """The values allowed by enum/const across the alternatives (as JSON text), or None if not enumerated."""
    found: set[str] = set()
    for branch in _branches(node, root):
        if not isinstance(branch, dict):
            return None
        if "enum" in branch:
            found.update(json.dumps(value, sort_keys=True) for value in branch["enum"])
        elif "const" in branch:
            found.add(json.dumps(branch["const"], sort_keys=True))
        elif branch.get("type") == "null":
            found.add("null")
        else:
            return None
    return found


def _object_parts(node: Any, root: Schema) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of the object alternatives of `node`."""
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for branch in _branches(node, root):
        if isinstance(branch, dict):
            properties.update(branch.get("properties", {}))
            required.update(branch.get("required", []))
    return properties, required


def _items(node: Any, root: Schema) -> Any | None:
    for branch in _branches(node, root):
        if isinstance(branch, dict) and isinstance(branch.get("items"), dict):
            return branch["items"]
    return None


def _compare(old: Any, new: Any, old_root: Schema, new_root: Schema, path: str, problems: list[str],
             depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if old_types is not None and new_types is not None:
        lost = old_types - new_types
        if "number" in new_types:
            lost.discard("integer")
        if lost:
            problems.append(f"{path}: type narrowed (no longer accepts {', '.join(sorted(lost))})")
    old_values, new_values = _values(old, old_root), _values(new, new_root)
    if old_values is not None and new_values is not None and old_values - new_values:
        problems.append(f"{path}: values narrowed (no longer accepts {', '.join(sorted(old_values - new_values))})")
    old_properties, old_required = _object_parts(old, old_root)
    new_properties, new_required = _object_parts(new, new_root)
    for name in sorted(old_properties):
        if name not in new_properties:
            problems.append(f"{path}.{name}: the field was removed")
        else:
            _compare(old_properties[name], new_properties[name], old_root, new_root, f"{path}.{name}", problems,
                     depth + 1)
    for name in sorted(new_required - old_required):
        problems.append(f"{path}.{name}: the field is newly required")
    old_items, new_items = _items(old, old_root), _items(new, new_root)
    if old_items is not None and new_items is not None:
        _compare(old_items, new_items, old_root, new_root, f"{path}[]", problems, depth + 1)


def cut_release(current: Path = JSON_DIR, released: Path = RELEASED_DIR) -> int:
    """Make the current schemas the released baseline; returns how many were copied."""
    released.mkdir(parents=True, exist_ok=True)
    for stale in released.glob(f"*{SUFFIX}"):
        stale.unlink()
    copied = 0
    for path in sorted(current.glob(f"*{SUFFIX}")):
        shutil.copyfile(path, released / path.name)
        copied += 1
    return copied


def main(argv: list[str] | None = None) -> int:
    """Compare (exit 1 on a breaking change) or, with --cut-release, record the current schemas as released."""
    parser = argparse.ArgumentParser(prog="python -m mash_schemas.compatibility", description=__doc__.split("\n")[0])
    parser.add_argument("--released", type=Path, default=RELEASED_DIR, help="the released schemas' folder")
    parser.add_argument("--current", type=Path, default=JSON_DIR, help="the generated schemas' folder")
    parser.add_argument("--cut-release", action="store_true", help="copy the current schemas over the released")
    args = parser.parse_args(argv)
    if args.cut_release:
        print(f"released {cut_release(args.current, args.released)} schemas into {args.released}")
        return 0
    problems = breaking_changes(load_schemas(args.released), load_schemas(args.current))
    for problem in problems:
        print(f"breaking: {problem}")
    if problems:
        print(f"{len(problems)} breaking change(s) from the released contract ({args.released}); make the change "
              "additive, or give the event a new schema_version with an upcaster", file=sys.stderr)
        return 1
    print(f"compatible with the released contract ({args.released})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
