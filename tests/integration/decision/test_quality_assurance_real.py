"""Quality assurance (tests/unit/decision/test_quality_assurance_use_cases.py) on the real broker and store: the
week's decided cases are found by their decision time on the MongoDB-protocol server as in memory."""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings
from mash_schemas.topics import QUALITY_AUDIT_RECORDED

from tests.support.service_harness import OnTheRealStack
from tests.unit.decision.test_quality_assurance_use_cases import QualityAssuranceScenarios

pytestmark = pytest.mark.integration


class TestQualityAssuranceOnTheRealStack(OnTheRealStack[DecisionService], QualityAssuranceScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = (QUALITY_AUDIT_RECORDED,)
