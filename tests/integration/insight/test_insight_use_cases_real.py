"""Insight's use-case scenarios (tests/unit/insight/test_insight_use_cases.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_insight.bootstrap import InsightService, bootstrap
from mash_insight.settings import InsightSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.insight.test_insight_use_cases import InsightScenarios

pytestmark = pytest.mark.integration


class TestInsightOnTheRealStack(OnTheRealStack[InsightService], InsightScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = InsightSettings
