"""Insight's quality-assurance figure (tests/unit/insight/test_insight_quality_assurance.py) on the real broker and
store: each audit kept once in its own collection, counted by grade and agreement."""

from __future__ import annotations

import pytest
from mash_insight.bootstrap import InsightService, bootstrap
from mash_insight.settings import InsightSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.insight.test_insight_quality_assurance import QualityAssuranceFigureScenarios

pytestmark = pytest.mark.integration


class TestQualityAssuranceFigureOnTheRealStack(OnTheRealStack[InsightService], QualityAssuranceFigureScenarios):
    """The same scenario, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = InsightSettings
