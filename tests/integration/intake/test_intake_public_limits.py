"""The public contact endpoint's limits on the real intake: 413 for a body too large, 429 past a client's
burst, each a JSON error saying what to do; nothing refused is stored."""

from __future__ import annotations

import json
from typing import Any

from mash_intake.settings import IntakeSettings
from pymongo import AsyncMongoClient

from tests.integration.intake.conftest import DEMO, running_intake


async def test_too_large_and_too_many_contacts_are_refused_with_clear_json_errors(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    settings = intake_settings.model_copy(update={"contacts_burst": 2, "contacts_per_minute": 1,
                                                  "max_request_bytes": 64 * 1024})
    contact = json.loads((DEMO / "contacts" / "scenario-5-quiet-worry.json").read_text(encoding="utf-8"))
    async with running_intake(settings) as intake:
        too_large = await intake.http.post("/contacts", content=b'{"pad": "' + b"x" * 70_000 + b'"}',
                                           headers={"Content-Type": "application/json"})
        accepted = [await intake.http.post("/contacts", json=contact) for _ in range(1)]
        too_many = await intake.http.post("/contacts", json=contact)
    stored = await mongo[settings.mongo_database]["contacts"].count_documents({})

    assert too_large.status_code == 413 and too_large.json()["error"] == "request_too_large"
    assert [r.status_code for r in accepted] == [202]
    assert too_many.status_code == 429
    body = too_many.json()
    assert body["error"] == "too_many_requests" and "a minute" in body["message"]
    assert too_many.headers["Retry-After"] == str(body["retry_after_seconds"])
    assert stored == 1
