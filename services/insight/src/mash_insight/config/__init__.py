"""Insight's packaged configuration: the rising-concern rule (the hub's timescales come with mash_runtime)."""

from importlib.resources import files
from pathlib import Path

from mash_runtime.config_files import load_config

from mash_insight.domain.rising_concern import WHAT, RisingConcernRule


def load_rising_concern_rule(path: Path | None = None) -> RisingConcernRule:
    """The hub's rule from `path`, or the shipped rising_concern.yaml; a mistake names the file and the field."""
    return load_config(path or files(__name__).joinpath("rising_concern.yaml"), RisingConcernRule, what=WHAT)


def default_rising_concern_rule() -> RisingConcernRule:
    """The rule in the shipped rising_concern.yaml."""
    return load_rising_concern_rule()
