"""The bulk police notification feed (public-protection and domestic-abuse notices)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from mash_schemas.common import HouseholdMember, Model, ShortText, Subject
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import POLICE_NOTIFICATION

PoliceNotificationType = Literal[
    "domestic_abuse",
    "public_protection",
    "antisocial_behaviour",
    "missing_person",
    "drugs_warrant",
    "crime_suspect",
    "sexual_offender_alert",
    "other",
]
"""What a police public-protection notification is about (intake's police triage rules are keyed by it)."""


class PoliceRouting(Model):
    """Which hub of a region a police force's one feed sent this notification to, by the child's address.

    Set by the region's police router (docs/federation.md); absent when a force feeds one hub directly.
    """

    region: ShortText
    hub: ShortText = Field(description="The hub (council) the notification was sent to.")
    district: ShortText | None = Field(
        None, description="The postcode district that decided it, or the first one found when none matched."
    )
    matched: bool = Field(
        description="False: no address matched the area of a hub the force serves, so it went to the force's "
        "default hub; the screener must establish which council's area the child lives in."
    )


class PoliceNotification(Model):
    """One notification from a police force's public-protection unit."""

    notification_id: ShortText
    force: ShortText
    notification_type: PoliceNotificationType
    incident_at: AwareDatetime
    reporting_officer: ShortText
    officer_email: Annotated[str, StringConstraints(max_length=200)] | None = None
    dash_risk: Literal["standard", "medium", "high"] | None = Field(
        None, description="DASH risk level for domestic-abuse incidents."
    )
    children_present: bool = False
    subjects: list[Subject] = Field(min_length=1, max_length=20)
    household: list[HouseholdMember] = Field(default_factory=list, max_length=30)
    flags: list[ShortText] = Field(default_factory=list, max_length=20)
    narrative: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    routing: PoliceRouting | None = Field(
        None, description="Set by a region's police router: the hub chosen by address, and whether it matched."
    )


class PoliceNotificationReceived(EventEnvelope[PoliceNotification]):
    """A police force sent a notification to the hub's feed."""

    TOPIC: ClassVar[str] = POLICE_NOTIFICATION
    event_type: Literal["police.notification"] = "police.notification"
