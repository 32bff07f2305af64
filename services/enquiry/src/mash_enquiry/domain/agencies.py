"""The hub's partner agencies as configuration: who they are and what identifying details each receives.

Adding a partner agency is an entry in the YAML file (read by mash_enquiry.config), not code. Each
entry says which identifying details the agency may receive (data minimisation under the information
sharing agreement): every agency gets the subjects' names, dates (birth, expected delivery or
estimated age) and household members' names and relationships; anything more is listed under
`receives`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from mash_runtime.region import Region, neighbour_agency_id
from mash_schemas import AgencyName
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, model_validator

from mash_enquiry.domain.exceptions import UnknownAgency
from mash_enquiry.domain.reminders import ReminderPolicy


class IdentifyingDetail(StrEnum):
    """Identifying details beyond the baseline that an agency may be configured to receive."""

    NHS_NUMBER = "nhs_number"
    POSTCODE = "postcode"
    TOWN = "town"
    ADDRESS_LINES = "address_lines"
    HOUSEHOLD_DATES_OF_BIRTH = "household_dates_of_birth"


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmailContact(_Config):
    """Reminders for this agency go to a mailbox (usually its MASH single point of contact)."""

    channel: Literal["email"]
    email: EmailStr


class WebhookContact(_Config):
    """Reminders for this agency go to a webhook on the agency's side."""

    channel: Literal["webhook"]
    url: HttpUrl


ReminderContact = Annotated[EmailContact | WebhookContact, Field(discriminator="channel")]


class Agency(_Config):
    """One partner agency: its id (the YAML key), display name, topic partitions and what it receives."""

    name: AgencyName
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    partitions: int = Field(3, ge=1, le=1000, description="Partitions of its request and response topics.")
    receives: frozenset[IdentifyingDetail] = frozenset({IdentifyingDetail.POSTCODE})
    reminder_contact: ReminderContact | None = Field(
        None, description="Where chasers go besides the request topic; none for a neighbouring hub, which answers "
        "automatically.")

    def gets(self, detail: IdentifyingDetail) -> bool:
        """Whether this agency is configured to receive `detail`."""
        return detail in self.receives


class AgencyDirectory(_Config):
    """Every partner agency the hub may ask, keyed by id, and the hub's reminder points."""

    agencies: dict[AgencyName, Agency] = Field(min_length=1)
    reminders: ReminderPolicy = ReminderPolicy()

    @model_validator(mode="before")
    @classmethod
    def _name_each_agency_by_its_key(cls, raw: Any) -> Any:
        # The YAML key is the agency's id; copying it in keeps `Agency` self-describing without
        # making the file say every name twice.
        if isinstance(raw, dict) and isinstance(raw.get("agencies"), dict):
            agencies: dict[Any, Any] = {}
            for key, entry in raw["agencies"].items():
                if isinstance(entry, dict) and "name" not in entry:
                    entry = {"name": key, **entry}
                agencies[key] = entry
            raw = {**raw, "agencies": agencies}
        return raw

    @model_validator(mode="after")
    def _keys_match_names(self) -> AgencyDirectory:
        for key, agency in self.agencies.items():
            if agency.name != key:
                raise ValueError(f"agency {key!r} says its name is {agency.name!r}; use the key only")
        return self

    @property
    def names(self) -> list[str]:
        """The configured agencies' ids, in the order the file lists them."""
        return list(self.agencies)

    def with_neighbouring_hubs(self, region: Region, namespace: str) -> AgencyDirectory:
        """This directory plus every other hub of the region as the member `hub-<id>` (docs/federation.md).

        A neighbouring hub answers from its own case files, which it finds by NHS number and by name with
        date of birth: so it receives the NHS number and the household's dates of birth, never an address.
        """
        this_hub = region.hub_in(namespace)
        neighbours = {
            neighbour_agency_id(hub.id): Agency(
                name=neighbour_agency_id(hub.id), display_name=f"{hub.name} (neighbouring hub)"[:100],
                receives=frozenset({IdentifyingDetail.NHS_NUMBER, IdentifyingDetail.HOUSEHOLD_DATES_OF_BIRTH}))
            for hub in region.neighbours(this_hub.id)}
        return self.model_copy(update={"agencies": {**self.agencies, **neighbours}})

    def agency(self, name: str) -> Agency:
        """The configuration of agency `name`; UnknownAgency if the hub has none."""
        try:
            return self.agencies[name]
        except KeyError:
            raise UnknownAgency([name]) from None

    def require(self, names: list[str]) -> list[Agency]:
        """The configurations of `names`, in order; UnknownAgency naming every unknown one."""
        unknown = [name for name in names if name not in self.agencies]
        if unknown:
            raise UnknownAgency(unknown)
        return [self.agencies[name] for name in names]
