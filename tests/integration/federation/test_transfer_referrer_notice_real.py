"""The referrer's transfer notice, on the real broker and store (the scenarios of the in-memory test)."""

from __future__ import annotations

from mash_notify.bootstrap import NotifyService
from mash_notify.settings import NotifySettings

from tests.support.service_harness import OnTheRealStack
from tests.unit.federation.test_transfer_referrer_notice import TransferNoticeScenarios
from tests.unit.notify.test_notify_use_cases import notify_in_memory_channels


class TestTransferNoticeOnTheRealStack(OnTheRealStack[NotifyService], TransferNoticeScenarios):
    bootstrap = staticmethod(notify_in_memory_channels)
    settings_class = NotifySettings
