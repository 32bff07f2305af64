"""NUL bytes and raw validation wording on the public form, on the real stack (issue 22, defect 5).

Intake runs in this process on the real broker and store; the workspace's public "report a concern" form is
the real workspace app sending to that intake. A NUL in a field is refused -- by intake, naming the field,
and by the form, in GOV.UK words at the field -- and stored nowhere in intake's database; a narrative
intake refuses as too long is explained in GOV.UK words, never pydantic's ("String should have at most...").
Each search of the database first finds a marker that was accepted, so finding nothing means something.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mash_intake.settings import IntakeSettings
from mash_runtime.memory_store import MemoryDatabase
from mash_workspace.app import create_app
from mash_workspace.clients import ServiceClients
from mash_workspace.settings import WorkspaceSettings
from pymongo import AsyncMongoClient

from tests.integration.intake.conftest import RunningIntake, running_intake
from tests.unit.intake.intake_builders import submission_payload
from tests.unit.workspace.test_workspace_concern import GOOD_FORM, summary_links

pytestmark = pytest.mark.integration

PUBLIC = {key: value for key, value in GOOD_FORM.items() if key not in ("referrer-agency", "referrer-role")}
RAW_WORDING = ("String should", "Value error", "value_error", "Input should", "pydantic")


async def stored_anywhere(mongo: AsyncMongoClient[dict[str, Any]], database: str, marker: str) -> bool:
    """Whether any document of intake's database holds `marker` (every collection, every field)."""
    db = mongo[database]
    for name in await db.list_collection_names():
        async for document in db[name].find({}):
            if marker in json.dumps(document, default=str):
                return True
    return False


@asynccontextmanager
async def public_form(intake: RunningIntake) -> AsyncIterator[httpx.AsyncClient]:
    """The real workspace app whose intake is the running one (no other service is needed by the public form)."""
    config = WorkspaceSettings(environment="test", public_url="https://127.0.0.1", log_level="WARNING",
                               intake_url="http://intake.test")
    clients = ServiceClients.from_settings(config, transport=intake.transport)
    app = create_app(config, clients=clients, database=MemoryDatabase("workspace"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://127.0.0.1") as client:
        yield client


async def send_form(client: httpx.AsyncClient, fields: dict[str, Any]) -> httpx.Response:
    blank = (await client.get("/report-a-concern/public")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', blank)
    assert csrf is not None
    return await client.post("/report-a-concern/public", data={**fields, "csrf_token": csrf.group(1)})


@pytest.mark.parametrize("path", ["concern.narrative", "referrer.name", "subjects.0.family_name"])
async def test_real_intake_refuses_a_nul_naming_the_field_and_stores_nothing(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]], path: str,
) -> None:
    marker = f"NUL-{uuid.uuid4().hex[:10]}"
    accepted_marker = f"KEPT-{uuid.uuid4().hex[:10]}"
    async with running_intake(intake_settings) as intake:
        refused = await intake.http.post("/contacts", json=_with(path, f"{marker}\x00"))
        good = await intake.http.post("/contacts", json=_with(path, accepted_marker))
    assert refused.status_code == 422, refused.text
    assert path in [entry["field"] for entry in refused.json()["fields"]]
    assert good.status_code == 202, good.text
    assert await stored_anywhere(mongo, intake_settings.mongo_database, accepted_marker), "the search finds"
    assert not await stored_anywhere(mongo, intake_settings.mongo_database, marker)


@pytest.mark.parametrize(("field", "message"), [
    ("concern-narrative", "What happened must only include letters, numbers, spaces, punctuation and line breaks"),
    ("referrer-name", "Your full name must only include letters, numbers, spaces and punctuation"),
    ("subject-family_name", "Their last name must only include letters, numbers, spaces and punctuation"),
])
async def test_the_public_form_refuses_a_nul_in_govuk_words_and_nothing_reaches_the_store(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]], field: str, message: str,
) -> None:
    marker = f"NUL{uuid.uuid4().hex[:10]}"
    async with running_intake(intake_settings) as intake, public_form(intake) as client:
        refused = await send_form(client, {**PUBLIC, field: f"{PUBLIC[field]} {marker}\x00"})
        sent = await send_form(client, {**PUBLIC, "concern-narrative": f"Hungry every day. {marker}-sent"})
    assert refused.status_code == 400
    assert (f"#{field}", message) in summary_links(refused.text)
    assert not any(raw in refused.text for raw in RAW_WORDING)
    assert sent.status_code == 303, "the same form without the NUL reaches the real intake"
    assert await stored_anywhere(mongo, intake_settings.mongo_database, f"{marker}-sent"), "the search finds"
    assert not await stored_anywhere(mongo, intake_settings.mongo_database, f"{marker}\x00")
    assert not await stored_anywhere(mongo, intake_settings.mongo_database, f"{PUBLIC[field]} {marker}")


async def test_a_narrative_intake_finds_too_long_is_explained_in_govuk_words(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    marker = f"LONG{uuid.uuid4().hex[:10]}"
    async with running_intake(intake_settings) as intake, public_form(intake) as client:
        refused = await send_form(client, {**PUBLIC, "concern-narrative": marker + "x" * 20_001})
    assert refused.status_code == 400
    assert ("#concern-narrative", "What happened must be 20,000 characters or fewer") in summary_links(refused.text)
    assert not any(raw in refused.text for raw in RAW_WORDING)
    assert not await stored_anywhere(mongo, intake_settings.mongo_database, marker)


def _with(path: str, value: str) -> dict[str, Any]:
    payload: dict[str, Any] = submission_payload()
    *parents, last = path.split(".")
    here: Any = payload
    for part in parents:
        here = here[int(part)] if isinstance(here, list) else here[part]
    if isinstance(here, list):
        here[int(last)] = value
    else:
        here[last] = value
    return payload
