"""The research desk's use cases (tests/unit/enquiry/test_enquiry_use_cases.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_enquiry.bootstrap import EnquiryService, bootstrap
from mash_enquiry.settings import EnquirySettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.enquiry.test_enquiry_use_cases import OUTPUTS, EnquiryScenarios

pytestmark = pytest.mark.integration


class TestEnquiryOnTheRealStack(OnTheRealStack[EnquiryService], EnquiryScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    outputs = OUTPUTS
