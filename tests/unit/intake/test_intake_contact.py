"""The Contact aggregate's rules (mash_intake.domain.contact), without a store: corrected only before
screening, each step of the hub shown once; and its document mapping (mash_intake.store) round-trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mash_intake.domain.contact import Contact, ScreeningHasBegun
from mash_intake.domain.contact_form import ContactCorrection, ContactSubmission, build_amendment, build_referral
from mash_intake.domain.level_of_needs import RatingIndicators, load_level_of_needs, suggest_rating
from mash_intake.store import contact_document, contact_from_document

from tests.unit.intake.intake_builders import submission_payload

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def received() -> Contact:
    form = ContactSubmission.model_validate(submission_payload())
    rating = suggest_rating(RatingIndicators.from_submission(form, assessed_on=NOW.date()), load_level_of_needs())
    referral = build_referral(form, referral_id="MASH-1", received_at=NOW, suggested_rating=rating, matches=[],
                              linked_referrals=[], source="api")
    return Contact.received(referral, ["LA-1"], "fingerprint-1")


def test_a_correction_is_taken_before_screening_and_refused_after() -> None:
    contact = received()
    correction = ContactCorrection(amended_by="Ann Teacher", additional_information="Father has moved back in.")
    contact.correct(build_amendment(correction, referral_id="MASH-1", amended_at=NOW), NOW)
    assert len(contact.amendments) == 1

    assert contact.follow("enquiry:E-1", "enquiry_open", "MASH enquiry opened", NOW)
    with pytest.raises(ScreeningHasBegun):
        contact.correct(build_amendment(correction, referral_id="MASH-1", amended_at=NOW), NOW)


def test_each_step_is_followed_once_by_its_identity() -> None:
    contact = received()
    later = NOW + timedelta(hours=2)

    assert contact.follow("decision:D-1", "decided", "decided: early_help", later, outcome="early_help")
    assert not contact.follow("decision:D-1", "decided", "decided: early_help", later, outcome="early_help")

    assert (contact.status, contact.outcome) == ("decided", "early_help")
    assert [line.what for line in contact.history] == ["contact received", "decided: early_help"]


def test_a_contact_is_stored_as_the_document_it_always_was_and_read_back_unchanged() -> None:
    contact = received()
    document = contact_document(contact)

    assert set(document) == {"referral_id", "status", "source", "received_at", "matched_person_refs", "amendments",
                             "history", "fingerprint", "suggested_rating", "referral"}
    assert contact_from_document(document) == contact
    assert contact.is_same_submission("fingerprint-1") and not contact.is_same_submission("another")
