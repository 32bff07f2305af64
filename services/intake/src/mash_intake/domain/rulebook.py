"""Reading a hub's rule tables (Level of Needs, police triage) from YAML, with errors naming the entry.

Rule tables are data so that a hub can change its thresholds without a code change; a table with a
mistake must be refused at start-up with a message that says which entry is wrong and why.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

TableT = TypeVar("TableT", bound=BaseModel)


class RuleTableError(ValueError):
    """A hub's rule table could not be read or is not valid; the message names the entry at fault."""


def packaged_rule_text(file_name: str) -> str:
    """The text of a rule table shipped with intake (the default a hub starts from)."""
    return resources.files("mash_intake").joinpath("rules", file_name).read_text(encoding="utf-8")


def read_rule_text(path: Path) -> str:
    """The text of a hub's own rule table, or a RuleTableError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuleTableError(f"cannot read rule table {path}: {error.strerror or error}") from error


def parse_rule_table(text: str, model: type[TableT], *, source: str) -> TableT:
    """Parse YAML `text` into `model`, turning YAML and validation errors into a RuleTableError."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RuleTableError(f"{source}: not valid YAML: {error}") from error
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{_describe_location(document, issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        raise RuleTableError(f"{source}: {problems}") from error


def _describe_location(document: Any, location: tuple[int | str, ...]) -> str:
    """Say where a problem is, naming the rule's id when the entry has one (more useful than an index)."""
    parts: list[str] = []
    node = document
    for step in location:
        if isinstance(step, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{step}]"]
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                parts[-1] += f" (rule '{node['id']}')"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts) or "table"
