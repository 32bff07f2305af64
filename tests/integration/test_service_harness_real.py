"""The scenario harness's probe scenarios (tests/unit/runtime/test_service_harness.py) on the real stack."""

from __future__ import annotations

import pytest

from tests.support.service_harness import OnTheRealStack
from tests.unit.runtime.test_service_harness import ECHO, ProbeScenarios, ProbeService, ProbeSettings, bootstrap

pytestmark = pytest.mark.integration


class TestProbeOnTheRealStack(OnTheRealStack[ProbeService], ProbeScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = ProbeSettings
    outputs = (ECHO,)
