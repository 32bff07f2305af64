"""One way to read a service's configuration files (agencies, recipients, rules, timescales), with clear errors.

Every configuration file of the hub is YAML validated by a pydantic model. A mistake in one must stop the
service at start-up with a message an operator can act on: which file, which field, what is wrong, and
never a traceback through a YAML parser. `load_config` is the one place that does this, so each service's
files fail the same way.

    rules = load_config(settings.recommendation_file or files("mash_decision") / "config" / "recommendation.yaml",
                        RecommendationRules, what="recommendation rules")
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file could not be read or is not valid; the message names the file and the fields."""


def parse_config(text: str, model: type[ModelT], *, what: str, source: str = "<text>") -> ModelT:
    """Validate YAML `text` as `model`; `what` names the configuration in the error ("recipients", ...)."""
    try:
        loaded: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{what} ({source}) is not valid YAML{where}") from exc
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{what} ({source}) must be a mapping of settings, not a {type(loaded).__name__}")
    try:
        return model.model_validate(loaded)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<top>'}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{what} ({source}) is not valid: {problems}") from exc


def load_config(source: Path | Traversable | str, model: type[ModelT], *, what: str) -> ModelT:
    """Read and validate the configuration file at `source` (a path, or a packaged default)."""
    path: Path | Traversable = Path(source) if isinstance(source, str) else source
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror or exc}") from exc
    return parse_config(text, model, what=what, source=str(path))
