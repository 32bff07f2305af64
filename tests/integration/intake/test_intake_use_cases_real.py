"""Intake's use-case scenarios (tests/unit/intake/test_intake_use_cases.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_intake.bootstrap import IntakeService, bootstrap
from mash_intake.settings import IntakeSettings
from mash_schemas.topics import REFERRAL_RECEIVED

from tests.support.service_harness import OnTheRealStack
from tests.unit.intake.test_intake_use_cases import DEMO, GroupCommitScenarios, IntakeScenarios

pytestmark = pytest.mark.integration


class TestIntakeOnTheRealStack(OnTheRealStack[IntakeService], IntakeScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    settings_overrides = {"register_file": DEMO / "register.csv"}
    outputs = (REFERRAL_RECEIVED,)


class TestIntakeOnTheRealStackWithGroupCommit(OnTheRealStack[IntakeService], GroupCommitScenarios):
    """The same scenarios on the real stack, contacts arriving together stored with one bulk write."""

    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    settings_overrides = {"register_file": DEMO / "register.csv", "group_commit_ms": 20.0}
    outputs = (REFERRAL_RECEIVED,)
