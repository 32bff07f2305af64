"""Sensitive item text stays sealed: an agency answers with a sensitive item whose summary carries a
distinctive marker, and the enquiry service, running as its own process with its log and span files,
never writes that text to its log, its spans, anywhere on `enquiry.completed`, or its database in clear.
The item is not lost either: it travels in the event's `encrypted` part, which only the decision
service's private key opens, and opens with the hub's sealing key from the stored document.

Each "absent" check has a positive control beside it (the item's id in the log, the topic in the
spans, a non-sensitive marker in the findings and the document), so a file that was empty or never
written could not pass the test.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from mash_agency import AgencyAnswer
from mash_enquiry.store import open_item
from mash_runtime.sealing import AtRestCipher
from mash_runtime.settings import DEVELOPMENT_SEALING_KEY
from mash_runtime.transit import DEVELOPMENT_TRANSIT_PRIVATE_KEY, TransitOpener
from mash_schemas import BragRating, EncryptedItem, EnquiryRequest, InformationItem, ReleaseCondition, Sensitivity
from mash_schemas.topics import ENQUIRY_COMPLETED, agency_response_topic
from pymongo import AsyncMongoClient

from demo.hub import Hub, HubConfig
from tests.integration.enquiry.conftest import (
    an_enquiry,
    enquiry_document,
    kit_settings,
    namespaced,
    open_enquiry,
    running_kit,
    true,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

SECRET = f"INTEL-{uuid.uuid4().hex}"
SHAREABLE = f"SHARE-{uuid.uuid4().hex}"


class PoliceWithIntelligence:
    """A police adapter holding unproven intelligence (sensitive, not releasable) and one shareable fact."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def search(self, request: EnquiryRequest) -> AgencyAnswer:
        self.asked.append(request.request_id)
        intelligence = InformationItem(
            item_id="pol-intel-1", about="mother's partner",
            summary=f"Intelligence {SECRET}: suspected of sexual offences against children, not charged.",
            sensitivity=Sensitivity.SENSITIVE,
            release=ReleaseCondition(permitted=False, request_route="Call the police MASH desk, quoting the reference."),
        )
        shareable = InformationItem(
            item_id="pol-attend-1", about="Kai Turner",
            summary=f"Police attended the address twice in 2026 for noise complaints ({SHAREABLE}).",
            sensitivity=Sensitivity.NON_SENSITIVE,
        )
        return AgencyAnswer.information_held([intelligence, shareable], rating=BragRating.RED,
                                             responded_by="Police MASH researcher")


async def test_sensitive_text_is_in_no_log_span_shareable_finding_or_clear_stored_field(
    infrastructure: Infrastructure, namespace: str, mongo: AsyncMongoClient[dict[str, Any]], artefacts: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mash_agency")
    bootstrap = infrastructure.kafka_bootstrap
    hub = Hub(HubConfig(kafka_bootstrap=bootstrap, mongo_url=infrastructure.mongo_url, namespace=namespace,
                        workdir=artefacts, service_env={"enquiry": {"MASH_ENQUIRY_SWEEP_SECONDS": "0.3"}}))
    log_file, trace_file = artefacts / "logs" / "enquiry.log", hub.trace_file("enquiry")
    completed_topic = namespaced(namespace, ENQUIRY_COMPLETED)
    response_topic = namespaced(namespace, agency_response_topic("police"))
    enquiry = an_enquiry("ref-sealed-1", ["police"], due_in=120)
    police = PoliceWithIntelligence()

    recorder = TopicRecorder(bootstrap, [completed_topic])
    await hub.start_service("enquiry")
    try:
        async with recorder.running(), running_kit(kit_settings(infrastructure, namespace, "police"), police):
            await open_enquiry(bootstrap, namespace, enquiry)
            await eventually(lambda: true(bool(recorder.on(completed_topic))), timeout=45, what="enquiry completed")
    finally:
        hub.services["enquiry"].stop()  # flushes and closes its log and span files

    # The event: the secret nowhere in its bytes; the shareable item in `findings`; the sensitive item
    # encrypted for the decision service, and opened only with decision's private key.
    raw = recorder.on(completed_topic)[0].value
    assert SECRET.encode() not in raw
    assert b"suspected of sexual offences" not in raw
    event = json.loads(raw)
    outcome = event["payload"]
    assert outcome["completion"] == "all_answered"
    assert SHAREABLE in json.dumps(outcome["findings"])
    assert outcome["sealed"] == []
    assert [(sealed["agency"], sealed["item_id"]) for sealed in outcome["encrypted"]] == [("police", "pol-intel-1")]
    opened = TransitOpener([DEVELOPMENT_TRANSIT_PRIVATE_KEY]).open(
        enquiry.referral_id, EncryptedItem.model_validate(outcome["encrypted"][0]))
    assert SECRET in opened.summary

    # The service's log and spans: written, about this answer, without the secret.
    log_text = log_file.read_text(encoding="utf-8")
    answer_lines = [json.loads(line) for line in log_text.splitlines() if "agency response taken" in line]
    assert [item["item_id"] for line in answer_lines for item in line["items"]] == ["pol-intel-1", "pol-attend-1"]
    assert SECRET not in log_text
    assert SECRET not in hub.services["enquiry"].log_path.read_text(encoding="utf-8")  # its stdout/stderr
    span_text = trace_file.read_text(encoding="utf-8")
    spans = [json.loads(line) for line in span_text.splitlines()]
    assert any(response_topic in json.dumps(span["attributes"]) for span in spans)
    assert SECRET not in span_text

    # The kit's own log names the request it answered, not the content.
    kit_log = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("mash_agency"))
    assert police.asked and police.asked[0] in kit_log
    assert SECRET not in kit_log

    # At rest: nothing in the enquiry service's database holds the secret in clear ...
    database = mongo[hub.database("enquiry")]
    stored = {name: await database[name].find().to_list() for name in await database.list_collection_names()}
    assert stored.get("enquiries")
    assert SECRET not in json.dumps(stored, default=str)
    assert SHAREABLE in json.dumps(stored["enquiries"], default=str)
    # ... but the sensitive item is kept, sealed, and opens with the hub's key.
    document = await enquiry_document(mongo, namespace, enquiry.enquiry_id)
    assert document is not None
    sealed_entries = [item for item in document["responses"]["police"]["items"] if "sealed" in item]
    assert [entry["item_id"] for entry in sealed_entries] == ["pol-intel-1"]
    assert SECRET in open_item(sealed_entries[0]["sealed"], AtRestCipher([DEVELOPMENT_SEALING_KEY])).summary
