"""Decision's subject access request with a blank or control-character name or reference, on the real broker
and store (issue 22, defect 4): a 422 naming the field, never a 500, and nothing requested.

The scenarios of tests/unit/decision/test_hostile_subject_access.py (a space, a no-break space, blanks and
no-break spaces mixed, NUL and ESC in family name, given name and person reference) against the real
decision service: its HTTP app and error handlers, its store on the MongoDB-protocol server, its outbox to Kafka.
"""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.decision.test_hostile_subject_access import HostileSubjectAccessScenarios
from tests.unit.decision.test_subject_access import OUTPUTS

pytestmark = pytest.mark.integration


class TestHostileSubjectAccessOnTheRealStack(OnTheRealStack[DecisionService], HostileSubjectAccessScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS
