"""Write the JSON Schema of every event, and an AsyncAPI document, for agencies that do not use Python.

Run `python -m mash_schemas.generate [out_dir]`; CI compares the output with the committed files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mash_schemas.catalogue import EVENTS, topic_of

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "json"


def event_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each event envelope, keyed by event type."""
    return {name: model.model_json_schema(mode="validation") for name, model in sorted(EVENTS.items())}


def asyncapi_document() -> dict[str, Any]:
    """A minimal AsyncAPI 3.0 document naming each channel and the event that travels on it."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name in sorted(EVENTS):
        key = name.replace(".", "_")
        messages[key] = {"name": name, "payload": {"$ref": f"./{name}.schema.json"}}
        channels[key] = {
            "address": topic_of(name),
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Multi-Agency Safeguarding Hub events",
            "version": "1",
            "description": "Every event travels in one envelope, keyed by referral id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages},
    }


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
