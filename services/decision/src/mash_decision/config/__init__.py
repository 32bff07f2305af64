"""The hub's default desk configuration, shipped as YAML (the timescales with mash_runtime, shared with insight)."""

from importlib.resources import files

from mash_runtime.timescales import default_timescales

from mash_decision.domain.recommendation import RecommendationRules

__all__ = ["default_recommendation_rules", "default_timescales"]


def default_recommendation_rules() -> RecommendationRules:
    """The recommendation rules in the shipped recommendation.yaml."""
    text = files(__name__).joinpath("recommendation.yaml").read_text(encoding="utf-8")
    return RecommendationRules.from_yaml(text)
