"""The contact's "transferred" status on the real broker and store (the scenario of the in-memory test)."""

from __future__ import annotations

from mash_intake.bootstrap import IntakeService, bootstrap
from mash_intake.settings import IntakeSettings
from mash_schemas.topics import REFERRAL_RECEIVED

from tests.support.service_harness import OnTheRealStack
from tests.unit.federation.test_transfer_contact_status import ContactStatusScenarios


class TestContactStatusOnTheRealStack(OnTheRealStack[IntakeService], ContactStatusScenarios):
    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    outputs = (REFERRAL_RECEIVED,)
