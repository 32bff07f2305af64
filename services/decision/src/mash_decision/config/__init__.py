"""The desk's configuration files: recommendation rules, timescales, dip sample; packaged defaults or a hub's own.

Each is read with mash_runtime.config_files.load_config, the one loader every service uses, so a
mistake in either stops the service at start-up with the file and the field named. The timescales'
packaged default lives with mash_runtime, shared with insight, which reports against the same targets.
"""

from importlib.resources import files
from pathlib import Path

from mash_runtime.config_files import load_config
from mash_runtime.timescales import TimescaleConfig

from mash_decision.domain.dip_sample import DipSampleRules
from mash_decision.domain.recommendation import RecommendationRules

__all__ = [
    "default_recommendation_rules", "default_timescales", "dip_sample_rules", "recommendation_rules", "timescales",
]

PACKAGED_RULES = files(__name__).joinpath("recommendation.yaml")
PACKAGED_DIP_SAMPLE = files(__name__).joinpath("dip_sample.yaml")
PACKAGED_TIMESCALES = files("mash_runtime").joinpath("timescales.yaml")


def recommendation_rules(path: Path | None = None) -> RecommendationRules:
    """The recommendation rules in `path`, or in the shipped recommendation.yaml."""
    return load_config(path or PACKAGED_RULES, RecommendationRules, what="recommendation rules")


def timescales(path: Path | None = None) -> TimescaleConfig:
    """The hub's timescales in `path`, or in the shipped timescales.yaml (mash_runtime's, shared with insight)."""
    return TimescaleConfig.load(path or PACKAGED_TIMESCALES)  # load_config, as insight reads the same file


def dip_sample_rules(path: Path | None = None) -> DipSampleRules:
    """The weekly dip sample's size per outcome in `path`, or in the shipped dip_sample.yaml."""
    return load_config(path or PACKAGED_DIP_SAMPLE, DipSampleRules, what="dip sample")


def default_recommendation_rules() -> RecommendationRules:
    """The recommendation rules in the shipped recommendation.yaml."""
    return recommendation_rules()


def default_timescales() -> TimescaleConfig:
    """The timescales in the shipped timescales.yaml."""
    return timescales()
