"""The sending hub's notify tells the referrer where their transferred concern went, once per transfer.

Notify runs through its real bootstrap with channels that keep what they send (in memory here; the same
scenario on the real broker in tests/integration/federation/test_transfer_referrer_notice_real.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mash_notify.bootstrap import NotifyService
from mash_notify.settings import NotifySettings
from mash_schemas import Referrer
from mash_schemas.common import BragRating
from mash_schemas.envelope import derived_event_id
from mash_schemas.federation import TransferNotice, TransferSent
from mash_schemas.topics import TRANSFER_SENT

from tests.support.service_harness import InMemory, RunningService
from tests.unit.notify.test_notify_use_cases import memory, notify_in_memory_channels

REFERRER_EMAIL = "dsl@eastbury-primary.example.org"


def transfer_sent(referral_id: str, *, event_id: uuid.UUID | None = None) -> TransferSent:
    """Eastshire's decision's transfer.sent for `referral_id` (derived id unless another is given)."""
    transfer_id = f"eastshire/{referral_id}"
    notice = TransferNotice(
        transfer_id=transfer_id, referral_id=referral_id, from_hub="eastshire", to_hub="westshire",
        to_hub_name="Westshire County Council", transferred_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        rating=BragRating.AMBER,
        referrer=Referrer(role="designated safeguarding lead", agency="Eastbury Primary", name="Ann Lee",
                          email=REFERRER_EMAIL))
    return TransferSent.build(notice, correlation_id=referral_id, producer="decision",
                              event_id=event_id or derived_event_id(transfer_id, "sent"))


class TransferNoticeScenarios:
    """What notify does with a transfer, wherever it runs."""

    async def test_the_referrer_is_told_where_the_concern_went_once(
        self, hub: RunningService[NotifyService]
    ) -> None:
        referral_id = f"REF-{uuid.uuid4().hex[:10].upper()}"
        event = transfer_sent(referral_id)
        await hub.publish(event, TRANSFER_SENT)
        await hub.publish(event, TRANSFER_SENT)  # redelivered
        await hub.publish(transfer_sent(referral_id, event_id=uuid.uuid4()), TRANSFER_SENT)  # republished

        async def one_queued() -> list[dict[str, object]] | None:
            found = [doc async for doc in hub.database["deliveries"].find({"referral_id": referral_id})]
            return found or None

        [delivery] = await hub.eventually(one_queued)
        assert (delivery["channel"], delivery["status"]) == ("email", "queued")
        await hub.service.deliveries.deliver_due()
        [sent] = memory(hub).to(REFERRER_EMAIL)
        assert "has been passed to Westshire County Council" in sent.text
        assert "Westshire County Council's front door" in sent.text


class TestTransferNoticeInMemory(InMemory[NotifyService], TransferNoticeScenarios):
    bootstrap = staticmethod(notify_in_memory_channels)
    settings_class = NotifySettings
