"""The sending hub's front door shows a contact transferred away: status "transferred", once per transfer.

Through intake's real bootstrap, in memory (the same scenario on the real broker:
tests/integration/federation/test_transfer_contact_status_real.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from mash_intake.bootstrap import IntakeService, bootstrap
from mash_intake.settings import IntakeSettings
from mash_schemas.topics import REFERRAL_RECEIVED, TRANSFER_SENT

from tests.support.service_harness import InMemory, RunningService
from tests.unit.federation.test_transfer_referrer_notice import transfer_sent
from tests.unit.intake.intake_builders import submission_payload
from tests.unit.intake.test_intake_use_cases import received, staff


class ContactStatusScenarios:
    """What the front door shows of a transfer away, wherever it runs."""

    async def test_a_transfer_away_is_shown_once_on_the_contact(self, hub: RunningService[IntakeService]) -> None:
        accepted = (await hub.http.post("/contacts", json=submission_payload())).json()
        referral_id = accepted["referral_id"]
        await received(hub, referral_id)

        sent = transfer_sent(referral_id)
        await hub.publish(sent, TRANSFER_SENT)
        await hub.publish(sent, TRANSFER_SENT)  # redelivered
        await hub.publish(transfer_sent(referral_id, event_id=uuid.uuid4()), TRANSFER_SENT)  # republished

        async def transferred() -> dict[str, Any] | None:
            status: dict[str, Any] = (await hub.http.get(f"/contacts/{referral_id}", headers=staff(hub))).json()
            return status if status["status"] == "transferred" else None

        status = await hub.eventually(transferred)
        assert [line["what"] for line in status["history"]] == ["contact received",
                                                                "passed to Westshire County Council"]
        assert status["outcome"] == "transferred to Westshire County Council"


class TestContactStatusInMemory(InMemory[IntakeService], ContactStatusScenarios):
    bootstrap = staticmethod(bootstrap)
    settings_class = IntakeSettings
    outputs = (REFERRAL_RECEIVED,)
