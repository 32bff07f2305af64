"""The hub's default desk configuration, shipped as YAML next to this module."""

from importlib.resources import files

from mash_decision.domain.recommendation import RecommendationRules
from mash_decision.domain.timescales import TimescaleConfig


def default_timescales() -> TimescaleConfig:
    """The timescales in the shipped timescales.yaml."""
    return TimescaleConfig.from_yaml(files(__name__).joinpath("timescales.yaml").read_text(encoding="utf-8"))


def default_recommendation_rules() -> RecommendationRules:
    """The recommendation rules in the shipped recommendation.yaml."""
    text = files(__name__).joinpath("recommendation.yaml").read_text(encoding="utf-8")
    return RecommendationRules.from_yaml(text)
