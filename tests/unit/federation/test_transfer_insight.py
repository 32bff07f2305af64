"""Insight counts transfers in and out per hub and the enquiries that asked a neighbouring hub (issue 20).

Through insight's real bootstrap, in memory (the same scenario on the real broker:
tests/integration/federation/test_transfer_insight_real.py): facts from referral.received (with
`transferred_from`), transfer.sent and enquiry.opened, each kept once however often it arrives.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from mash_insight.bootstrap import InsightService, bootstrap
from mash_insight.settings import InsightSettings
from mash_schemas import BragRating, Referrer
from mash_schemas.envelope import derived_event_id
from mash_schemas.federation import TransferNotice, TransferSent
from mash_schemas.referral import ReferralReceived, TransferOrigin
from mash_schemas.topics import ENQUIRY_OPENED, REFERRAL_RECEIVED, TRANSFER_SENT

from tests.support.insight_events import enquiry_opened_event, referral_event
from tests.support.service_harness import MONDAY_MORNING, InMemory, RunningService
from tests.unit.insight.test_insight_use_cases import analyst

DAY = MONDAY_MORNING.date().isoformat()


def transferred_in(referral_id: str, from_hub: str) -> ReferralReceived:
    """Intake's referral.received for a contact another hub transferred here."""
    event = referral_event(referral_id, MONDAY_MORNING - timedelta(hours=1))
    origin = TransferOrigin(hub_id=from_hub, hub_name=f"{from_hub.title()} County Council",
                            referral_id=f"THEIRS-{referral_id}", transferred_at=MONDAY_MORNING - timedelta(hours=2),
                            transferred_by="Jo (screener)", reason="The family moved.",
                            sending_rating=BragRating.AMBER)
    payload = event.payload.model_copy(update={"transferred_from": origin})
    return ReferralReceived.build(payload, correlation_id=referral_id, producer="intake",
                                  event_id=event.event_id, occurred_at=event.occurred_at)


def transferred_out(referral_id: str, to_hub: str) -> TransferSent:
    """Decision's transfer.sent."""
    transfer_id = f"eastshire/{referral_id}"
    notice = TransferNotice(transfer_id=transfer_id, referral_id=referral_id, from_hub="eastshire", to_hub=to_hub,
                            to_hub_name=f"{to_hub.title()} County Council",
                            transferred_at=MONDAY_MORNING - timedelta(minutes=30), rating=BragRating.RED,
                            referrer=Referrer(role="GP", name="Dr Ann Lee", email="ann.lee@example.org"))
    return TransferSent.build(notice, correlation_id=referral_id, producer="decision",
                              event_id=derived_event_id(transfer_id, "sent"))


class TransferFigureScenarios:
    """What insight counts across hubs, wherever it runs."""

    async def test_transfers_in_and_out_and_cross_hub_enquiries_are_counted_once(
        self, hub: RunningService[InsightService]
    ) -> None:
        ids = [f"MASH-{uuid.uuid4().hex[:8]}" for _ in range(5)]
        inbound = transferred_in(ids[0], "westshire")
        await hub.publish(inbound, REFERRAL_RECEIVED)
        await hub.publish(inbound, REFERRAL_RECEIVED)  # redelivered
        await hub.publish(referral_event(ids[1], MONDAY_MORNING - timedelta(hours=1)), REFERRAL_RECEIVED)
        outbound = transferred_out(ids[2], "westshire")
        await hub.publish(outbound, TRANSFER_SENT)
        await hub.publish(outbound, TRANSFER_SENT)
        await hub.publish(transferred_out(ids[3], "northshire"), TRANSFER_SENT)
        opened, due = MONDAY_MORNING - timedelta(hours=1), MONDAY_MORNING + timedelta(hours=3)
        await hub.publish(enquiry_opened_event(ids[1], f"ENQ-{ids[1]}", opened, due,
                                               agencies=["police", "hub-westshire"]), ENQUIRY_OPENED)
        await hub.publish(enquiry_opened_event(ids[4], f"ENQ-{ids[4]}", opened, due, agencies=["police"]),
                          ENQUIRY_OPENED)

        async def counted() -> dict[str, Any] | None:
            response = await hub.http.get("/figures/federation", params={"from": DAY, "to": DAY},
                                          headers=analyst(hub))
            assert response.status_code == 200, response.text
            report: dict[str, Any] = response.json()
            done = sum(report["transfers_out"].values()) == 2 and report["cross_hub_enquiries"] == 1 \
                and sum(report["transfers_in"].values()) == 1
            return report if done else None

        report = await hub.eventually(counted)
        assert report["transfers_in"] == {"westshire": 1}
        assert report["transfers_out"] == {"northshire": 1, "westshire": 1}
        assert (report["cross_hub_enquiries"], report["hubs_asked"]) == (1, {"westshire": 1})
        assert (await hub.service.store.counts())["transfers_out"] == 2


class TestTransferFiguresInMemory(InMemory[InsightService], TransferFigureScenarios):
    bootstrap = staticmethod(bootstrap)
    settings_class = InsightSettings
