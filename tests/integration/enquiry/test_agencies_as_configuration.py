"""A partner agency added by configuration only: a hub whose agencies file (MASH_ENQUIRY_AGENCIES_FILE)
names a new agency, school nursing, with two partitions. The enquiry service creates its request and
response topics with two partitions, sends it only what the file says it receives, and an enquiry to
it is answered by a kit started as `python -m mash_agency run --agency school-nursing` (the simulated
adapter holds no records for it, so it answers "nothing known"). No code names school nursing.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mash_schemas.topics import (
    DEAD_LETTER,
    ENQUIRY_COMPLETED,
    ENQUIRY_OPENED,
    agency_response_topic,
    enquiry_request_topic,
)
from pymongo import AsyncMongoClient

from tests.integration.enquiry.conftest import (
    an_enquiry,
    enquiry_settings,
    kit_answers,
    kit_process,
    namespaced,
    open_enquiry,
    partition_count,
    running_desk,
    true,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

AGENCIES_FILE = """\
agencies:
  health:
    display_name: Health
    receives: [nhs_number, postcode, household_dates_of_birth]
    reminder_contact: {channel: email, email: mash-health@hub.example.org}
  school-nursing:
    display_name: School nursing service
    partitions: 2
    receives: [postcode]
    reminder_contact: {channel: webhook, url: "https://school-nursing.example.org/mash/reminders"}
reminders:
  points:
    - before_due: PT30S
"""


async def test_a_new_agency_needs_only_configuration(
    infrastructure: Infrastructure, namespace: str, mongo: AsyncMongoClient[dict[str, Any]], artefacts: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    agencies_file = artefacts / "agencies.yaml"
    agencies_file.write_text(AGENCIES_FILE, encoding="utf-8")
    monkeypatch.setenv("MASH_ENQUIRY_AGENCIES_FILE", str(agencies_file))
    settings = enquiry_settings(infrastructure, namespace)
    assert settings.agencies_file == agencies_file

    request_topic = namespaced(namespace, enquiry_request_topic("school-nursing"))
    response_topic = namespaced(namespace, agency_response_topic("school-nursing"))
    completed_topic = namespaced(namespace, ENQUIRY_COMPLETED)
    dead_letters = namespaced(namespace, DEAD_LETTER)
    kit_log = artefacts / "agency-school-nursing.log"
    enquiry = an_enquiry("ref-school-nursing-1", ["school-nursing"], due_in=120)
    not_configured = an_enquiry("ref-not-configured-1", ["police"], due_in=120)

    recorder = TopicRecorder(bootstrap, [request_topic, response_topic, completed_topic, dead_letters])
    async with running_desk(settings), recorder.running():
        # The hub made the new agency's topics with the partitions its entry asks for.
        assert await partition_count(bootstrap, request_topic) == 2
        assert await partition_count(bootstrap, response_topic) == 2
        assert await partition_count(bootstrap, namespaced(namespace, enquiry_request_topic("health"))) == 3
        # An agency in the packaged directory but not in this hub's file gets no topics at all.
        assert await partition_count(bootstrap, namespaced(namespace, enquiry_request_topic("police"))) is None

        kit = kit_process(infrastructure, namespace, "school-nursing", kit_log).start()
        try:
            await open_enquiry(bootstrap, namespace, enquiry)
            await open_enquiry(bootstrap, namespace, not_configured)
            await eventually(lambda: true(bool(recorder.on(completed_topic))), timeout=45,
                             what="the enquiry to school nursing completed")
            await eventually(lambda: true(bool(recorder.on(dead_letters))), timeout=30,
                             what="the enquiry to an unconfigured agency set aside")
        finally:
            kit.stop()
        # The kit found the topic the hub made and did not make its own.
        assert await partition_count(bootstrap, request_topic) == 2

    # Data minimisation as configured: postcode, names and the subject's date of birth; nothing else.
    request = recorder.on(request_topic)[0].json()["payload"]
    assert request["agency"] == "school-nursing"
    subject = request["subjects"][0]
    assert subject["nhs_number"] is None
    assert subject["address"] == {"lines": [], "town": None, "postcode": "EX4 6PX"}
    assert subject["date_of_birth"] == "2012-09-14"
    assert [member["date_of_birth"] for member in request["household"]] == [None, None]

    assert kit_answers(kit_log) == [request["request_id"]]
    answer = recorder.on(response_topic)[0].json()
    assert answer["producer"] == "agency:school-nursing"
    assert answer["payload"]["outcome"] == "nothing_known"
    outcome = recorder.on(completed_topic)[0].json()["payload"]
    assert outcome["enquiry_id"] == enquiry.enquiry_id
    assert outcome["completion"] == "all_answered"
    assert [(f["agency"], f["outcome"]) for f in outcome["findings"]] == [("school-nursing", "nothing_known")]

    letter = recorder.on(dead_letters)[0].json()["payload"]
    assert letter["origin_topic"] == namespaced(namespace, ENQUIRY_OPENED)
    assert letter["error_type"] == "rejected"
    assert letter["reason"] == "enquiry names agencies the hub has not configured: not a configured partner agency: 'police'"
    assert json.loads(base64.b64decode(letter["raw_base64"]))["payload"]["enquiry_id"] == not_configured.enquiry_id
