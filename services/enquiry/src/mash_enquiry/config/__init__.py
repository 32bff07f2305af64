"""The research desk's configuration file: the hub's partner agencies (agencies.yaml), packaged or a hub's own.

Parsed with mash_runtime.config_files.parse_config, the one loader every service uses, so a mistake stops the service
at start-up naming the file and the field. One check is added before it: a key given twice (an agency
entered twice) is refused, where YAML would silently keep the last entry and an agency would lose
its settings without anyone noticing.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from mash_runtime.config_files import ConfigError, parse_config

from mash_enquiry.domain.agencies import AgencyDirectory
from mash_enquiry.domain.exceptions import AgencyDirectoryInvalid

__all__ = ["PACKAGED_AGENCIES", "load_agencies", "parse_agencies"]

PACKAGED_AGENCIES: Traversable = files(__name__).joinpath("agencies.yaml")
WHAT = "partner agencies"


def parse_agencies(text: str, source: str = "<text>") -> AgencyDirectory:
    """The agency directory in YAML `text`; AgencyDirectoryInvalid names `source` and what is wrong."""
    try:
        _refuse_repeated_keys(text, source)
        return parse_config(text, AgencyDirectory, what=WHAT, source=source)
    except ConfigError as error:
        raise AgencyDirectoryInvalid(str(error)) from None


def load_agencies(path: Path | None = None) -> AgencyDirectory:
    """The agency directory in `path`, or the packaged default when no path is given."""
    source: Path | Traversable = path if path is not None else PACKAGED_AGENCIES
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        # In load_config's words, so that every service's unreadable file is reported alike.
        raise AgencyDirectoryInvalid(f"{WHAT}: cannot read {source}: {error.strerror or error}") from None
    return parse_agencies(text, source=str(source))


def _refuse_repeated_keys(text: str, source: str) -> None:
    try:
        yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as error:
        if "given twice" in str(error.problem):
            raise ConfigError(f"{WHAT} ({source}) is not valid: {error.problem}{_where(error)}") from None
    except yaml.YAMLError:
        pass  # parse_config reports malformed YAML with its position


def _where(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark
    return f" (line {mark.line + 1})" if mark is not None else ""


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice (PyYAML would keep the last silently)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
