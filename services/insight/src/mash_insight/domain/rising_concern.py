"""Rising concern: families whose low-level contacts add up, listed for a professional to look at.

No single contact met the threshold for social care, but together they may say something. A family is
the people matched to the local authority's records (person references) who appear on the same contacts:
a child, their siblings, the adults matched with them. Its low-level contacts (rated blue or green, by
the manager at decision or by intake's suggestion until then) received within the window before the day
looked at each score 1 (or a weight the hub gives a concern category); at the threshold, the family is
listed with the contacts that raised it. The rule is the hub's configuration, and a listing is a prompt
for people to look, never a decision: nothing is sent, opened or changed by it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from mash_runtime.config_files import parse_config
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mash_insight.domain.facts import ContactFact, DecisionFact

WHAT = "rising-concern rule"


class RisingConcernRule(BaseModel):
    """The hub's rule, as data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low_level_ratings: frozenset[str] = Field(frozenset({"blue", "green"}), min_length=1)
    window_days: int = Field(90, ge=1, le=730)
    threshold: float = Field(3, gt=0)
    category_weights: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def from_yaml(cls, text: str) -> RisingConcernRule:
        """The rule from YAML text (see config/rising_concern.yaml), read as every configuration file is."""
        return parse_config(text, cls, what=WHAT)

    def weight(self, contact: ContactFact) -> float:
        """What one low-level contact scores: its weightiest listed category, else 1."""
        weights = [self.category_weights[c] for c in contact.categories if c in self.category_weights]
        return max(weights) if weights else 1.0


class RaisingContact(BaseModel):
    """A contact that counted towards the flag: identifiers, time, rating, outcome, source, categories, area."""

    referral_id: str
    received_at: AwareDatetime
    rating: str
    outcome: str | None
    sector: str
    categories: list[str]
    district: str | None
    person_refs: list[str]
    score: float


class FlaggedFamily(BaseModel):
    """A family whose low-level contacts in the window reached the threshold."""

    family: str = Field(description="The family's first person reference, as a handle for the listing.")
    person_refs: list[str]
    score: float
    threshold: float
    window_days: int
    first_contact_at: AwareDatetime
    last_contact_at: AwareDatetime
    higher_level_contacts_in_window: int = Field(
        description="Contacts about the family in the window rated above low level (already escalated)."
    )
    contacts: list[RaisingContact]


class RisingConcernReport(BaseModel):
    """Families to look at, as of a day; a prompt for people, never a decision."""

    as_of: AwareDatetime
    rule: RisingConcernRule
    families: list[FlaggedFamily]


def families(contacts: list[ContactFact]) -> dict[str, list[str]]:
    """Person references joined into families by appearing on the same contact: ref -> the family's refs."""
    parent: dict[str, str] = {}

    def root(ref: str) -> str:
        parent.setdefault(ref, ref)
        while parent[ref] != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    for contact in contacts:
        refs = contact.person_refs
        for ref in refs:
            root(ref)
        for other in refs[1:]:
            a, b = root(refs[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = defaultdict(list)
    for ref in parent:
        members[root(ref)].append(ref)
    return {ref: sorted(members[root(ref)]) for ref in parent}


def rising_concern(contacts: list[ContactFact], decisions: dict[str, DecisionFact], rule: RisingConcernRule,
                   as_of: datetime) -> RisingConcernReport:
    """Families whose low-level contacts in the `rule.window_days` up to `as_of` reach `rule.threshold`."""
    since = as_of - timedelta(days=rule.window_days)
    in_window = [c for c in contacts if since < c.received_at <= as_of and c.person_refs]
    family_of = families(in_window)
    grouped: dict[str, list[ContactFact]] = defaultdict(list)
    for contact in in_window:
        grouped[family_of[contact.person_refs[0]][0]].append(contact)
    flagged = []
    for family, mine in grouped.items():
        low, higher = [], 0
        for contact in sorted(mine, key=lambda c: (c.received_at, c.referral_id)):
            decision = decisions.get(contact.referral_id)
            rating = decision.rating if decision else contact.suggested_rating
            if rating in rule.low_level_ratings:
                low.append(RaisingContact(
                    referral_id=contact.referral_id, received_at=contact.received_at, rating=rating,
                    outcome=decision.outcome if decision else None, sector=contact.sector,
                    categories=contact.categories, district=contact.district, person_refs=contact.person_refs,
                    score=rule.weight(contact),
                ))
            else:
                higher += 1
        score = sum(c.score for c in low)
        if low and score >= rule.threshold:
            flagged.append(FlaggedFamily(
                family=family, person_refs=family_of[family], score=score, threshold=rule.threshold,
                window_days=rule.window_days, first_contact_at=low[0].received_at,
                last_contact_at=low[-1].received_at, higher_level_contacts_in_window=higher, contacts=low,
            ))
    flagged.sort(key=lambda f: (-f.score, -f.last_contact_at.timestamp(), f.family))
    return RisingConcernReport(as_of=as_of, rule=rule, families=flagged)
