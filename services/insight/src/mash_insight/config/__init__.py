"""Insight's packaged configuration: the rising-concern rule (the hub's timescales come with mash_runtime)."""

from importlib.resources import files

from mash_insight.domain.rising_concern import RisingConcernRule


def default_rising_concern_rule() -> RisingConcernRule:
    """The rule in the shipped rising_concern.yaml."""
    return RisingConcernRule.from_yaml(files(__name__).joinpath("rising_concern.yaml").read_text(encoding="utf-8"))
