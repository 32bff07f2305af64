"""The referrer's sector for the figures by source: stated, from the police feed, the public, or the words."""

from __future__ import annotations

import pytest
from mash_intake.domain.sectors import infer_sector, with_sector
from mash_schemas.common import Referrer, ReferrerSector

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("role", "agency", "expected"),
    [
        ("designated safeguarding lead", "Hilltop Primary School", ReferrerSector.EDUCATION),
        ("class teacher", None, ReferrerSector.EDUCATION),
        ("school nurse", "Devon NHS Trust", ReferrerSector.HEALTH),
        ("GP", "Riverside Surgery", ReferrerSector.HEALTH),
        ("health visitor", None, ReferrerSector.HEALTH),
        ("nursery manager", "Little Acorns", ReferrerSector.EARLY_YEARS),
        ("police officer", "Devon and Cornwall Police", ReferrerSector.POLICE),
        ("probation officer", "Probation Service", ReferrerSector.PROBATION),
        ("housing officer", "Exeter City Council", ReferrerSector.HOUSING),
        ("support worker", "Refuge", ReferrerSector.VOLUNTARY),
        ("neighbour", None, ReferrerSector.OTHER),
    ],
)
def test_the_sector_is_read_from_the_role_and_organisation(role: str, agency: str | None,
                                                           expected: ReferrerSector) -> None:
    assert infer_sector(Referrer(role=role, agency=agency, name="A Person"), "web_form") is expected


def test_a_stated_sector_the_police_feed_and_the_public_win_over_the_words() -> None:
    stated = Referrer(role="teacher", name="A", sector=ReferrerSector.SOCIAL_CARE)
    public = Referrer(role="teacher", name="A", is_member_of_public=True)
    assert infer_sector(stated, "web_form") is ReferrerSector.SOCIAL_CARE
    assert infer_sector(Referrer(role="analyst", name="A"), "police_notification") is ReferrerSector.POLICE
    assert infer_sector(public, "api") is ReferrerSector.PUBLIC
    assert with_sector(Referrer(role="GP", name="A"), "api").sector is ReferrerSector.HEALTH
    assert with_sector(stated, "api") is stated
