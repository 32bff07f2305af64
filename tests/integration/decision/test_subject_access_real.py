"""Subject access and "who looked" (tests/unit/decision/test_subject_access.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.decision.test_subject_access import OUTPUTS, SubjectAccessScenarios

pytestmark = pytest.mark.integration


class TestSubjectAccessOnTheRealStack(OnTheRealStack[DecisionService], SubjectAccessScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS
