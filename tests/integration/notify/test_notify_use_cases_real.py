"""Notify's use-case scenarios (tests/unit/notify/test_notify_use_cases.py) on the real broker and store."""

from __future__ import annotations

import pytest
from mash_notify.bootstrap import NotifyService
from mash_notify.settings import NotifySettings
from mash_schemas.topics import NOTIFICATION_SENT

from tests.support.service_harness import OnTheRealStack
from tests.unit.notify.test_notify_use_cases import NotifyScenarios, notify_in_memory_channels

pytestmark = pytest.mark.integration


class TestNotifyOnTheRealStack(OnTheRealStack[NotifyService], NotifyScenarios):
    """The same scenarios, on the native Kafka broker and store (the channels stay in memory)."""

    bootstrap = staticmethod(notify_in_memory_channels)
    settings_class = NotifySettings
    outputs = (NOTIFICATION_SENT,)
