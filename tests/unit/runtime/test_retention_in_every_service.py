"""Every service erases a subject past its retention date, keeps one under legal hold, and applies an erasure
event once however often it is delivered: in memory, through each service's real bootstrap.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mash_decision.bootstrap import DecisionService
from mash_decision.bootstrap import bootstrap as decision_bootstrap
from mash_decision.settings import DecisionSettings
from mash_enquiry.bootstrap import EnquiryService
from mash_enquiry.bootstrap import bootstrap as enquiry_bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_insight.bootstrap import InsightService
from mash_insight.bootstrap import bootstrap as insight_bootstrap
from mash_insight.settings import InsightSettings
from mash_intake.bootstrap import IntakeService
from mash_intake.bootstrap import bootstrap as intake_bootstrap
from mash_intake.settings import IntakeSettings
from mash_notify.bootstrap import NotifyService
from mash_notify.settings import NotifySettings
from mash_runtime.auth import issue_token
from mash_runtime.roles import Role
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, LEGAL_HOLD, REFERRAL_RECEIVED, SUBJECT_ERASED

from tests.support.insight_events import MARKER, decision_event, enquiry_opened_event, referral_event
from tests.support.retention_scenarios import RetentionScenarios
from tests.support.service_harness import InMemory, RunningService
from tests.unit.intake.intake_builders import submission_payload
from tests.unit.notify.test_notify_use_cases import notify_in_memory_channels

NFA_AND_A_BIT = timedelta(days=365 * 2 + 30)


class IntakeRetention(RetentionScenarios):
    """A contact from the form, decided no further action: 2 years after the decision."""

    due_after = NFA_AND_A_BIT

    async def plant(self, hub: RunningService[Any], referral_id: str) -> str:
        payload = submission_payload()
        payload["subjects"][0]["family_name"] = f"Hughes{MARKER}"
        accepted = await hub.http.post("/contacts", json=payload)
        referral_id = str(accepted.json()["referral_id"])
        received = await hub.eventually(lambda: [e for e in hub.published(REFERRAL_RECEIVED)
                                                 if e["payload"]["referral_id"] == referral_id] or None)
        assert received[0]["payload"]["lawful_basis"]["article_6"] == "UK GDPR Art. 6(1)(e) public task"
        now = hub.clock()
        await hub.publish(decision_event(referral_id, now, now, outcome="no_further_action"), DECISION_MADE)
        return referral_id


class TestIntakeRetentionInMemory(InMemory[IntakeService], IntakeRetention):
    bootstrap = staticmethod(intake_bootstrap)
    settings_class = IntakeSettings
    outputs = (REFERRAL_RECEIVED, SUBJECT_ERASED)


class DecisionRetention(RetentionScenarios):
    """A case file not yet decided: the longest contact rule (the child's 25th birthday)."""

    async def plant(self, hub: RunningService[Any], referral_id: str) -> str:
        await hub.publish(referral_event(referral_id, hub.clock()), REFERRAL_RECEIVED)
        await hub.eventually(lambda: hub.database["case_files"].find_one({"_id": referral_id}))
        return referral_id


class TestDecisionRetentionInMemory(InMemory[DecisionService], DecisionRetention):
    bootstrap = staticmethod(decision_bootstrap)
    settings_class = DecisionSettings
    outputs = (SUBJECT_ERASED,)


class EnquiryRetention(RetentionScenarios):
    """An enquiry: enquiry never hears the decision, so the schedule's 'unknown' rule."""

    async def plant(self, hub: RunningService[Any], referral_id: str) -> str:
        now = hub.clock()
        await hub.publish(enquiry_opened_event(referral_id, f"ENQ-{referral_id}", now, now + timedelta(hours=8),
                                               ["police", "health"]), ENQUIRY_OPENED)
        await hub.eventually(lambda: hub.database["enquiries"].find_one({"referral_id": referral_id}))
        return referral_id


class TestEnquiryRetentionInMemory(InMemory[EnquiryService], EnquiryRetention):
    bootstrap = staticmethod(enquiry_bootstrap)
    settings_class = EnquirySettings
    outputs = (SUBJECT_ERASED,)


class NotifyRetention(RetentionScenarios):
    """A hand-off and feedback: notify cannot date them (no dates of birth), the erasure event removes them."""

    sweeps_itself = False

    async def plant(self, hub: RunningService[Any], referral_id: str) -> str:
        now = hub.clock()
        await hub.publish(decision_event(referral_id, now, now, outcome="early_help"), DECISION_MADE)
        await hub.eventually(lambda: hub.database["deliveries"].find_one({"referral_id": referral_id}))
        return referral_id


class TestNotifyRetentionInMemory(InMemory[NotifyService], NotifyRetention):
    bootstrap = staticmethod(notify_in_memory_channels)
    settings_class = NotifySettings
    outputs = (SUBJECT_ERASED,)


class InsightRetention(RetentionScenarios):
    """Figures about a contact decided no further action: anonymised 2 years after the decision."""

    due_after = NFA_AND_A_BIT

    async def plant(self, hub: RunningService[Any], referral_id: str) -> str:
        now = hub.clock()
        await hub.publish(referral_event(referral_id, now, person_refs=("LA-1",)), REFERRAL_RECEIVED)
        await hub.publish(decision_event(referral_id, now, now, outcome="no_further_action"), DECISION_MADE)
        await hub.eventually(lambda: hub.database["decisions"].find_one({"_id": referral_id}))
        return referral_id


class TestInsightRetentionInMemory(InMemory[InsightService], InsightRetention):
    bootstrap = staticmethod(insight_bootstrap)
    settings_class = InsightSettings
    outputs = (SUBJECT_ERASED,)

    async def test_anonymised_figures_still_count(self, hub: RunningService[InsightService]) -> None:
        referral_id = await self.plant(hub, "MASH-COUNTED")
        hub.clock.advance(self.due_after)
        await hub.service.governance.sweep()
        counts = await hub.service.store.counts()
        assert counts["contacts"] == 1 and counts["decisions"] == 1
        assert await hub.database["contacts"].find_one({"referral_id": referral_id}) is None


class TestLegalHoldsThroughDecisionInMemory(InMemory[DecisionService]):
    """A MASH manager places and lifts a hold over decision's API; it is published and audited."""

    bootstrap = staticmethod(decision_bootstrap)
    settings_class = DecisionSettings
    outputs = (LEGAL_HOLD,)

    @staticmethod
    def as_role(hub: RunningService[DecisionService], role: Role) -> dict[str, str]:
        token = issue_token(hub.settings.jwt_secret.get_secret_value(), "Mo Patel", [role])
        return {"Authorization": f"Bearer {token}"}

    async def test_a_manager_places_and_lifts_a_hold_and_every_service_hears_of_it(
        self, hub: RunningService[DecisionService]
    ) -> None:
        manager = self.as_role(hub, Role.MANAGER)
        path = "/cases/MASH-HELD/legal-hold"
        refused = await hub.http.post(path, json={"reason": "complaint", "note": "Family complaint"},
                                      headers=self.as_role(hub, Role.SCREENER))
        placed = await hub.http.post(path, json={"reason": "learning_review", "note": "Rapid review 2026-04"},
                                     headers=manager)
        shown = (await hub.http.get(path, headers=manager)).json()
        lifted = await hub.http.post(f"{path}/lift", json={"note": "Review concluded"}, headers=manager)
        again = await hub.http.post(f"{path}/lift", json={"note": "Review concluded"}, headers=manager)
        await hub.flush()

        assert (refused.status_code, placed.status_code, lifted.status_code, again.status_code) == (403, 201, 200, 409)
        assert shown["state"] == "placed" and shown["reason"] == "learning_review"
        published = await hub.eventually(lambda: [e["payload"]["state"] for e in hub.published(LEGAL_HOLD)
                                                  if e["payload"]["referral_id"] == "MASH-HELD"] or None)
        assert published == ["placed", "lifted"]
        actions = [r["action"] for r in await hub.service.runtime.audit.for_referral("MASH-HELD")]
        assert actions == ["legal_hold_placed", "legal_hold_lifted"]
        assert await hub.service.governance.held("MASH-HELD") is None
