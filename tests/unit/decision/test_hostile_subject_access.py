"""Hostile text on decision's subject access request (issue 22, defect 4): a 422 naming the field, never a 500.

A family name, given name or person reference of only blanks (a space, a no-break space) passed the request
model and then failed the contract's stripped type inside the handler: a 500. With one rule for text
(mash_schemas.text) the request model refuses it where the caller can be told which field.
"""

from __future__ import annotations

import pytest
from mash_decision.bootstrap import DecisionService, bootstrap
from mash_decision.settings import DecisionSettings
from mash_runtime.roles import Role
from mash_schemas.topics import SUBJECT_ACCESS_REQUESTED

from tests.support.service_harness import InMemory, RunningService
from tests.unit.decision.test_subject_access import KAI, OUTPUTS, as_

Hub = RunningService[DecisionService]
pytestmark = pytest.mark.unit

HOSTILE = [(name, value) for name in ("family_name", "given_name", "person_ref")
           for value in (" ", "\u00a0", "\t \u00a0", "Tur\x00ner", "Tur\x1bner")]


class HostileSubjectAccessScenarios:
    """The scenarios, run in memory here and on the real broker and store in
    tests/integration/decision/test_hostile_subject_access_real.py."""

    @pytest.mark.parametrize(("field", "value"), HOSTILE)
    async def test_a_blank_or_control_character_identifier_is_a_422_naming_it(
            self, hub: Hub, field: str, value: str) -> None:
        response = await hub.http.post("/subject-access-requests", json={**KAI, field: value},
                                       headers=as_(hub, Role.MANAGER))
        assert response.status_code == 422, response.text
        assert [entry["field"] for entry in response.json()["fields"]] == [field]
        assert hub.published(SUBJECT_ACCESS_REQUESTED) == []

    async def test_a_blank_reason_is_refused_too(self, hub: Hub) -> None:
        response = await hub.http.post("/subject-access-requests", json={**KAI, "reason": " \u00a0 \u00a0 "},
                                       headers=as_(hub, Role.MANAGER))
        assert response.status_code == 422
        assert [entry["field"] for entry in response.json()["fields"]] == ["reason"]

    async def test_names_are_stored_stripped(self, hub: Hub) -> None:
        response = await hub.http.post("/subject-access-requests",
                                       json={**KAI, "family_name": "\u00a0Turner "}, headers=as_(hub, Role.MANAGER))
        assert response.status_code == 201, response.text
        request_id = response.json()["request_id"]
        [requested] = await hub.eventually(lambda: [e for e in hub.published(SUBJECT_ACCESS_REQUESTED)
                                                    if e["payload"]["request_id"] == request_id])
        assert requested["payload"]["person"]["family_name"] == "Turner"


class TestHostileSubjectAccess(InMemory[DecisionService], HostileSubjectAccessScenarios):
    """The real decision bootstrap on a MemoryDatabase and TestKafkaBroker."""

    bootstrap = staticmethod(bootstrap)
    settings_class = DecisionSettings
    outputs = OUTPUTS
