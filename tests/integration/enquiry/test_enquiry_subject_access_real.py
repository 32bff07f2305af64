"""Enquiry's subject access scenarios (tests/unit/enquiry/test_enquiry_subject_access.py) on the real stack."""

from __future__ import annotations

import pytest
from mash_enquiry.bootstrap import EnquiryService, bootstrap
from mash_enquiry.settings import EnquirySettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.enquiry.test_enquiry_subject_access import OUTPUTS, EnquirySubjectAccessScenarios
from tests.unit.enquiry.test_enquiry_subject_access_retention import (
    RETENTION_OUTPUTS,
    EnquiryPermissionRetentionScenarios,
)

pytestmark = pytest.mark.integration


class TestEnquirySubjectAccessOnTheRealStack(OnTheRealStack[EnquiryService], EnquirySubjectAccessScenarios):
    """The same scenarios, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    outputs = OUTPUTS


class TestEnquiryPermissionRetentionOnTheRealStack(OnTheRealStack[EnquiryService],
                                                   EnquiryPermissionRetentionScenarios):
    """Permission requests past their date, on the native Kafka broker and store."""

    bootstrap = staticmethod(bootstrap)
    settings_class = EnquirySettings
    outputs = RETENTION_OUTPUTS
