"""The referrer's sector, for the hub's figures by source (police, school, health, public...).

A referrer may state it; when they do not, the front door reads it from how the contact arrived and
from the words of their role and organisation. Only the sector travels on for reporting, never the
words it was read from.
"""

from __future__ import annotations

import re
from typing import Literal

from mash_schemas.common import Referrer, ReferrerSector

# First match wins, so the more specific words come first ("school nurse" is health, "police" before
# "community"); each pattern is matched on whole words of the role and the organisation together.
_RULES: tuple[tuple[ReferrerSector, str], ...] = (
    (ReferrerSector.POLICE, r"police|constable|pc|ps|dc|detective|officer in case|public protection unit"),
    (ReferrerSector.HEALTH, r"gp|doctor|nurse|health visitor|midwife|midwifery|hospital|nhs|paediatric\w*|"
                            r"camhs|mental health|ambulance|paramedic|surgery|clinic|health"),
    (ReferrerSector.EARLY_YEARS, r"nursery|pre-?school|childminder|children's centre|early years"),
    (ReferrerSector.EDUCATION, r"school|academy|college|teacher|head ?teacher|dsl|designated safeguarding lead|"
                               r"education|pupil|send(co)?|university"),
    (ReferrerSector.PROBATION, r"probation"),
    (ReferrerSector.YOUTH_OFFENDING, r"youth offending|yot|youth justice"),
    (ReferrerSector.HOUSING, r"housing|homeless\w*|landlord|tenancy"),
    (ReferrerSector.SOCIAL_CARE, r"social worker|social care|early help|family support|children's services"),
    (ReferrerSector.VOLUNTARY, r"charity|voluntary|church|mosque|faith|domestic abuse service|refuge|nspcc|"
                               r"barnardo'?s"),
)
_COMPILED = tuple((sector, re.compile(rf"\b(?:{pattern})\b")) for sector, pattern in _RULES)


def infer_sector(referrer: Referrer, source: Literal["web_form", "api", "police_notification"]) -> ReferrerSector:
    """The sector a contact came from: stated, else the police feed, a member of the public, or the words."""
    if referrer.sector is not None:
        return referrer.sector
    if source == "police_notification":
        return ReferrerSector.POLICE
    if referrer.is_member_of_public:
        return ReferrerSector.PUBLIC
    words = f"{referrer.role} {referrer.agency or ''}".casefold()
    for sector, pattern in _COMPILED:
        if pattern.search(words):
            return sector
    return ReferrerSector.OTHER


def with_sector(referrer: Referrer, source: Literal["web_form", "api", "police_notification"]) -> Referrer:
    """The referrer with their sector filled in."""
    if referrer.sector is not None:
        return referrer
    return referrer.model_copy(update={"sector": infer_sector(referrer, source)})
