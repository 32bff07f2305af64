"""The front door's reasoning (tests/unit/decision/test_front_door_reasoning.py) on the real broker and store:
the analysis and the child's voice survive sealing at rest and reach decision.made on the real topic."""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.decision.test_decision_use_cases import OUTPUTS
from tests.unit.decision.test_front_door_reasoning import ChildsVoiceRequiredScenarios, ReasoningScenarios

pytestmark = pytest.mark.integration


class TestReasoningOnTheRealStack(OnTheRealStack[DecisionService], ReasoningScenarios):
    """The reasoning scenarios on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS


class TestChildsVoiceRequiredOnTheRealStack(OnTheRealStack[DecisionService], ChildsVoiceRequiredScenarios):
    """`require_childs_voice` on, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    settings_overrides = {"require_childs_voice": True}
    outputs = OUTPUTS
