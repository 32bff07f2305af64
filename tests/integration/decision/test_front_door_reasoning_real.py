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


class TestReasoningOnTheRealStack(OnTheRealStack[DecisionService], ReasoningScenarios,
                                 ChildsVoiceRequiredScenarios):
    """The reasoning scenarios, with `require_childs_voice` as every hub runs it (the default), on the native
    Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS
