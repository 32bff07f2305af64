"""What the transfer tests share: a two-hub region, a family that has moved, and a search through sealed data.

The region is the packaged example (Westshire and Eastshire) under a run's own namespaces. The family is
known to Eastshire and now lives in Westshire (postcode WS3); Eastshire's police answer carries a sealed
item with a unique marker, its health answer a finding that may be shared. `haystack` opens what a
service sealed at rest before searching, so "the marker is not there" means it is not there in clear
either; each test first finds the marker where it must be (a positive control).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from mash_runtime.region import Region, example_region_file, load_region
from mash_runtime.sealing import AtRestCipher, SealBroken
from mash_runtime.settings import DEVELOPMENT_SEALING_KEY
from mash_runtime.transit import DEVELOPMENT_TRANSIT_PUBLIC_KEY, TransitSealer
from mash_schemas import (
    Address,
    AgencyFindings,
    BragRating,
    EnquiryOutcome,
    InformationItem,
    Referral,
    ReleaseCondition,
    Sensitivity,
)
from mash_schemas.enquiry import EnquiryCompleted
from mash_schemas.referral import ReferralReceived

SENDING = "eastshire"
RECEIVING = "westshire"
WESTSHIRE_POSTCODE = "WS3 1AB"
TRANSFER_REASON = "The family moved to Westshire last month (new tenancy, WS3)."


def two_hub_region(prefix: str, folder: Path) -> tuple[Region, Path]:
    """The example region under namespaces of this run (<prefix>-westshire, <prefix>-eastshire), and its file."""
    region = load_region(example_region_file()).with_namespaces(prefix)
    return region, region.write(folder / "region.yaml")


def marker() -> str:
    """A unique string no code would write by chance (planted in a sealed item)."""
    return f"SEALED-MARKER-{uuid.uuid4().hex}"


def moved_family(base: Referral) -> Referral:
    """`base` with its child's address in Westshire's area."""
    subjects = [subject.model_copy(update={"address": Address(lines=["4 Mill Lane"], town="Westbury",
                                                              postcode=WESTSHIRE_POSTCODE)})
                for subject in base.subjects]
    return base.model_copy(update={"subjects": subjects})


def received(referral: Referral) -> ReferralReceived:
    """Eastshire intake's referral.received."""
    return ReferralReceived.build(referral, correlation_id=referral.referral_id, producer="intake")


def sealed_police_item(secret: str) -> InformationItem:
    """Police intelligence the force has not released: it must never leave Eastshire."""
    return InformationItem(
        item_id="pol-7", about="mother's partner", summary=f"{secret}: on bail for a violent offence.",
        sensitivity=Sensitivity.SENSITIVE, rating_reason=f"{secret} (risk to children in the household)",
        release=ReleaseCondition(permitted=False, request_route="Ask Eastshire police public protection unit"))


def shared_health_item() -> InformationItem:
    """A finding that may be shared."""
    return InformationItem(item_id="gp-1", about="mother", summary="Mother missed two recent GP appointments.",
                           sensitivity=Sensitivity.NON_SENSITIVE)


def enquiry_completed(referral_id: str, enquiry_id: str, secret: str, at: datetime) -> EnquiryCompleted:
    """Eastshire's research desk's outcome: health's shareable finding and police's sealed item (encrypted for
    the decision service, as the enquiry service sends it)."""
    health = AgencyFindings(agency="health", outcome="information_held", rating=BragRating.AMBER, responded_at=at,
                            items=[shared_health_item()])
    police = sealed_police_item(secret)
    outcome = EnquiryOutcome(
        enquiry_id=enquiry_id, referral_id=referral_id, completed_at=at, completion="all_answered",
        findings=[health, AgencyFindings(agency="police", outcome="information_held", rating=BragRating.RED,
                                         responded_at=at, items=[])],
        encrypted=[TransitSealer([DEVELOPMENT_TRANSIT_PUBLIC_KEY]).seal(referral_id, "police", police)])
    return EnquiryCompleted.build(outcome, correlation_id=referral_id, producer="enquiry")


def _opened(value: Any, cipher: AtRestCipher) -> Any:
    """`value` with every string the hub sealed at rest opened (a Fernet token starts 'gAAAAA')."""
    if isinstance(value, str) and value.startswith("gAAAAA"):
        try:
            return _opened(cipher.open(value), cipher)
        except SealBroken:
            return value
    if isinstance(value, dict):
        return {key: _opened(inner, cipher) for key, inner in value.items()}
    if isinstance(value, list):
        return [_opened(inner, cipher) for inner in value]
    return value


def haystack(documents: Iterable[Any]) -> str:
    """Documents (or events) as one text to search, with what was sealed at rest (development key) opened."""
    cipher = AtRestCipher([DEVELOPMENT_SEALING_KEY])
    return "\n".join(json.dumps(_opened(document, cipher), default=str, ensure_ascii=False) for document in documents)
