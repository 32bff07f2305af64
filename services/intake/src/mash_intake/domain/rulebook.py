"""Reading a hub's rule tables (Level of Needs, police triage) through the hub's one configuration loader.

Rule tables are data so that a hub can change its thresholds without a code change; a table with a
mistake must be refused at start-up with a message that says which entry is wrong and why.
mash_runtime.config_files reads and validates every configuration file of the hub the same way; a rule
table's error goes one step further and names the rule by its id (`indicators[3] (rule 'neglect')`),
which says more to the person editing the table than an index does.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from mash_runtime.config_files import ConfigError, load_config, parse_config
from pydantic import BaseModel, ValidationError

TableT = TypeVar("TableT", bound=BaseModel)


class RuleTableError(ConfigError):
    """A hub's rule table could not be read or is not valid; the message names the entry at fault."""


def packaged_rule_table(file_name: str) -> Traversable:
    """A rule table shipped with intake (the default a hub starts from)."""
    return files("mash_intake").joinpath("rules", file_name)


def parse_rule_table(text: str, model: type[TableT], *, what: str, source: str = "<text>") -> TableT:
    """Parse YAML `text` into `model`; a RuleTableError names the file and the rule at fault."""
    try:
        return parse_config(text, model, what=what, source=source)
    except ConfigError as error:
        raise _naming_rules(error, text, what=what, source=source) from error.__cause__


def load_rule_table(path: Path | None, packaged: str, model: type[TableT], *, what: str) -> TableT:
    """The table at `path`, or the packaged table `packaged` when no path is given."""
    source: Path | Traversable = path if path is not None else packaged_rule_table(packaged)
    try:
        return load_config(source, model, what=what)
    except ConfigError as error:
        # The file was read (else there is no validation error to describe): read it again to name the rules.
        text = source.read_text(encoding="utf-8") if isinstance(error.__cause__, ValidationError) else ""
        raise _naming_rules(error, text, what=what, source=str(source)) from error.__cause__


def _naming_rules(error: ConfigError, text: str, *, what: str, source: str) -> RuleTableError:
    """The loader's error, with each invalid field's location naming its rule's id where the entry has one."""
    cause = error.__cause__
    if not isinstance(cause, ValidationError):
        return RuleTableError(str(error))
    document = yaml.safe_load(text)
    problems = "; ".join(f"{_describe_location(document, issue['loc'])}: {issue['msg']}" for issue in cause.errors())
    return RuleTableError(f"{what} ({source}) is not valid: {problems}")


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
