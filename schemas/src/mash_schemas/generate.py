"""Write the JSON Schema of every event, and an AsyncAPI document, for agencies that do not use Python.

Run `python -m mash_schemas.generate [out_dir]`; CI compares the output with the committed files, checks
them against the released contract (mash_schemas.compatibility) and validates the AsyncAPI document with
the AsyncAPI parser (infra/asyncapi/validate.sh).

The schemas are published for readers and writers alike, so they state the reader's rule: an object may
carry properties not listed (a newer producer may have added optional ones) and a reader ignores them.
The models' own `additionalProperties: false` (the strict writer's rule) is therefore left out, and each
schema says in its `$comment` that a writer sends only the listed properties.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mash_schemas.asyncapi import asyncapi_document
from mash_schemas.catalogue import EVENTS

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "json"

READERS_AND_WRITERS = (
    "Readers: ignore properties you do not know; a newer producer may add optional ones without a new "
    "schema_version (tolerant reader). Writers: send only the properties listed here; the hub's own "
    "producers refuse any other (strict writer). A breaking change comes with a new schema_version, and "
    "readers upcast the older versions they know."
)


def tolerant(schema: Any) -> Any:
    """`schema` without `additionalProperties: false` anywhere: the published form is the reader's."""
    if isinstance(schema, dict):
        return {k: tolerant(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [tolerant(item) for item in schema]
    return schema


def event_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each event envelope, keyed by event type, as readers must apply it."""
    schemas = {}
    for name, model in sorted(EVENTS.items()):
        schema = tolerant(model.model_json_schema(mode="validation"))
        schema["$comment"] = READERS_AND_WRITERS
        schemas[name] = schema
    return schemas


def rendered_files() -> dict[str, str]:
    """File name -> exact text of every generated document."""
    files = {
        f"{name}.schema.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in event_schemas().items()
    }
    files["asyncapi.json"] = json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    """Write the generated files to the given folder (default: the package's committed json/)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()
    for name, text in rendered_files().items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered_files())} files to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
