"""Insight's figures across hubs on the real broker and store (the scenarios of the in-memory test)."""

from __future__ import annotations

from mash_insight.bootstrap import InsightService, bootstrap
from mash_insight.settings import InsightSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.federation.test_transfer_insight import TransferFigureScenarios


class TestTransferFiguresOnTheRealStack(OnTheRealStack[InsightService], TransferFigureScenarios):
    bootstrap = staticmethod(bootstrap)
    settings_class = InsightSettings
