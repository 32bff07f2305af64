"""Subject access and "who looked" (tests/unit/decision/test_subject_access.py) and subject access requests on
the retention schedule (tests/unit/decision/test_subject_access_retention.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.decision.test_subject_access import OUTPUTS, SubjectAccessScenarios
from tests.unit.decision.test_subject_access_retention import RETENTION_OUTPUTS, SubjectAccessRetentionScenarios

pytestmark = pytest.mark.integration


class TestSubjectAccessOnTheRealStack(OnTheRealStack[DecisionService], SubjectAccessScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS


class TestSubjectAccessRetentionOnTheRealStack(OnTheRealStack[DecisionService], SubjectAccessRetentionScenarios):
    """Requests past their date, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = RETENTION_OUTPUTS
