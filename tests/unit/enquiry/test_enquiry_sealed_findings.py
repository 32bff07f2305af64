"""Property: whatever agencies say in sensitive items, it never reaches the shareable findings."""

from __future__ import annotations

import string
from datetime import timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mash_enquiry.config import load_agencies
from mash_enquiry.domain.enquiry_record import EnquiryRecord, Late
from mash_schemas import InformationItem

from tests.unit.enquiry.enquiry_builders import DUE_AT, OPENED_AT, an_answer, an_enquiry, sensitive, shareable

pytestmark = pytest.mark.unit

AGENCIES = ["police", "health", "education"]
words = st.text(alphabet=string.ascii_letters + string.digits + " .,'", min_size=16, max_size=120).map(str.strip)
summaries = words.filter(lambda text: len(text) >= 16)


@st.composite
def agency_items(draw: st.DrawFn, agency: str) -> list[InformationItem]:
    secret_texts = draw(st.lists(summaries, min_size=0, max_size=3))
    open_texts = draw(st.lists(summaries, min_size=0, max_size=3))
    wordings = draw(st.lists(st.one_of(st.none(), summaries), min_size=len(secret_texts), max_size=len(secret_texts)))
    items = [shareable(f"{agency}-open-{n}", text) for n, text in enumerate(open_texts)]
    items += [
        sensitive(f"{agency}-sealed-{n}", text, wording)
        for n, (text, wording) in enumerate(zip(secret_texts, wordings, strict=True))
    ]
    return draw(st.permutations(items))


def _secret_texts(items: list[InformationItem]) -> list[str]:
    texts: list[str] = []
    for item in items:
        if item.release is not None:  # sensitive
            texts.append(item.summary)
            if item.release.permitted_wording:
                texts.append(item.release.permitted_wording)
    return texts


@settings(max_examples=60, deadline=None)
@given(
    answers=st.fixed_dictionaries({agency: agency_items(agency) for agency in AGENCIES}),
    silent=st.sampled_from([None, *AGENCIES]),
)
def test_sensitive_text_never_appears_in_the_findings(
    answers: dict[str, list[InformationItem]], silent: str | None
) -> None:
    secrets = [text for items in answers.values() for text in _secret_texts(items)]
    shareable_text = " ".join(item.summary for items in answers.values() for item in items if item.release is None)
    assume(all(secret not in shareable_text for secret in secrets))

    record = EnquiryRecord.open(an_enquiry(AGENCIES), load_agencies(), OPENED_AT)
    for agency, items in answers.items():
        if agency != silent:
            record.record_response(an_answer(agency, items), OPENED_AT + timedelta(hours=1))
    outcome = record.complete(DUE_AT)

    findings_json = "".join(finding.model_dump_json() for finding in outcome.findings)
    for secret in secrets:
        assert secret not in findings_json
    sealed_ids = {(sealed.agency, sealed.item.item_id) for sealed in outcome.sealed}
    expected_sealed = {
        (agency, item.item_id)
        for agency, items in answers.items()
        if agency != silent
        for item in items
        if item.release is not None
    }
    assert sealed_ids == expected_sealed

    if silent is not None:
        late = record.record_response(an_answer(silent, answers[silent]), DUE_AT + timedelta(hours=1))
        assert isinstance(late, Late)
        for secret in _secret_texts(answers[silent]):
            assert secret not in late.addendum.findings.model_dump_json()
