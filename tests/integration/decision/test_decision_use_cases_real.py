"""The desk's use cases (tests/unit/decision/test_decision_use_cases.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.decision.test_decision_use_cases import (
    OUTPUTS,
    RED_IN_TWO_HOURS,
    DecisionScenarios,
    HubsOwnTimescalesScenarios,
)

pytestmark = pytest.mark.integration


class TestDecisionOnTheRealStack(OnTheRealStack[DecisionService], DecisionScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS


class TestHubsOwnTimescalesOnTheRealStack(OnTheRealStack[DecisionService], HubsOwnTimescalesScenarios):
    """The desk on a hub's own timescales file, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    settings_overrides = {"timescales_file": RED_IN_TWO_HOURS}
    outputs = OUTPUTS
