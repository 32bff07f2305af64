"""The region: several councils' hubs on one Kafka cluster, the agencies each has, and the area table.

A region is data, owned by the partners, not code: a YAML file (`MASH_REGION_FILE`; unset means a
single hub and nothing here applies) names each hub (council) with its topic namespace, the postcode
districts it covers and the agencies that are its members, and each police force with the hubs it
serves and the hub that takes a notification whose address matches none. Every part that acts across
hubs reads it: the Kafka principals and ACLs per hub (demo/kafka_access.py), the agency kit answering
several hubs, the police feed router, transfers and neighbour enquiries (docs/federation.md).
Pure: no broker, database or clock.
"""

from __future__ import annotations

import os
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from mash_schemas.topics import police_feed_topic
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mash_runtime.config_files import load_config

REGION_FILE_ENV = "MASH_REGION_FILE"
NEIGHBOUR_HUB_PREFIX = "hub-"  # a neighbouring hub's agency id as a virtual member: hub-<hub id>

HubId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
AgencyId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
Namespace = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
# A postcode district (the outward code): one or two letters, a digit, and a digit or letter (WS1, ES12, SW1A).
District = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]?$", to_upper=True,
                                            strip_whitespace=True)]

_POSTCODE = re.compile(r"^(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?)\s*(?P<inward>[0-9][A-Z]{2})?$")



def _namespace_defaults_to_id(data: Any) -> Any:
    """A hub's (or the region's) namespace is its id unless the file says otherwise (tests give random ones)."""
    if isinstance(data, dict) and not data.get("namespace") and isinstance(data.get("id"), str):
        return {**data, "namespace": data["id"]}
    return data

class UnknownHub(LookupError):
    """The region names no hub with that id or namespace."""


class UnknownPoliceForce(LookupError):
    """The region names no police force with that id."""


def postcode_district(postcode: str | None) -> str | None:
    """The district (outward code) of a UK postcode, e.g. 'ws3 1ab' -> 'WS3'; None if it is not one.

    A full postcode written without its space is split before the inward code (its last three characters).
    """
    if not postcode:
        return None
    text = " ".join(postcode.upper().split())
    if " " not in text and len(text) > 4:
        text = f"{text[:-3]} {text[-3:]}"
    found = _POSTCODE.fullmatch(text)
    return found["outward"] if found else None


def neighbour_agency_id(hub_id: str) -> str:
    """The agency id under which hub `hub_id` is a virtual member of another hub's enquiries."""
    return f"{NEIGHBOUR_HUB_PREFIX}{hub_id}"


def namespaced(namespace: str, topic: str) -> str:
    """`topic` in `namespace` ("" for none), as every service names its topics."""
    return f"{namespace}.{topic}" if namespace else topic


class RegionHub(BaseModel):
    """One council's hub: its namespace on the shared cluster, its area, and its member agencies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: HubId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    namespace: Namespace = Field(description="Prefix of the hub's topics, groups and databases (defaults to id).")
    areas: list[District] = Field(default_factory=list, description="The postcode districts the council covers.")
    agencies: list[AgencyId] = Field(default_factory=list, description="Agencies that are members of this hub.")

    @model_validator(mode="before")
    @classmethod
    def _namespace_defaults_to_id(cls, data: Any) -> Any:
        return _namespace_defaults_to_id(data)

    @model_validator(mode="after")
    def _hub_agencies_are_not_members(self) -> Self:
        for agency in self.agencies:
            if agency.startswith(NEIGHBOUR_HUB_PREFIX):
                raise ValueError(f"agencies: {agency!r}: ids starting {NEIGHBOUR_HUB_PREFIX!r} name neighbouring "
                                 "hubs, which are members through the region, not listed as agencies")
        if len(set(self.agencies)) != len(self.agencies):
            raise ValueError("agencies: an agency is listed twice")
        return self

    def principal(self, service: str) -> str:
        """The Kafka principal `service` of this hub logs in as: <hub id>-<service>, e.g. westshire-intake."""
        return f"{self.id}-{service}"

    def topic(self, topic: str) -> str:
        """A contract topic name in this hub's namespace."""
        return namespaced(self.namespace, topic)

    def database(self, service: str) -> str:
        """The database of `service` in this hub (as demo/hub.py names them)."""
        return f"{self.namespace}_{service}"


class PoliceForce(BaseModel):
    """A police force serving one or more hubs, with one notification feed routed by the child's address."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: HubId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    hubs: list[HubId] = Field(min_length=1, description="The hubs this force serves.")
    default_hub: HubId = Field(description="Where a notification goes whose address matches no hub's area.")
    agency: AgencyId = Field("police", description="The agency id the force answers MASH enquiries as.")

    @model_validator(mode="after")
    def _default_is_served(self) -> Self:
        if self.default_hub not in self.hubs:
            raise ValueError(f"default_hub: {self.default_hub!r} is not one of the hubs it serves {self.hubs}")
        return self

    @property
    def feed_principal(self) -> str:
        """The principal the force's own system sends its one feed as."""
        return f"police-feed-{self.id}"

    @property
    def router_principal(self) -> str:
        """The principal of the router that passes the force's feed on to each hub."""
        return f"police-router-{self.id}"


class PoliceRoute(BaseModel):
    """Which hub a police notification goes to, and why."""

    model_config = ConfigDict(frozen=True)

    hub: RegionHub
    district: str | None = Field(description="The postcode district that decided it (None when none was found).")
    matched: bool = Field(description="False: no address matched a hub's area, so it went to the force's default.")


class Region(BaseModel):
    """The hubs sharing a cluster, their areas and agencies, and the police forces that serve them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: HubId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    namespace: Namespace = Field(description="Prefix of the region's own topics (the police feeds); defaults to id.")
    hubs: list[RegionHub] = Field(min_length=1)
    police_forces: list[PoliceForce] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _namespace_defaults_to_id(cls, data: Any) -> Any:
        return _namespace_defaults_to_id(data)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [hub.id for hub in self.hubs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"hubs: a hub id is used twice in {ids}")
        namespaces = [hub.namespace for hub in self.hubs] + [self.namespace]
        if len(set(namespaces)) != len(namespaces):
            raise ValueError(f"namespaces must differ between hubs and the region: {namespaces}")
        owner: dict[str, str] = {}
        for hub in self.hubs:
            for district in hub.areas:
                if district in owner and owner[district] != hub.id:
                    raise ValueError(f"areas: {district} is in both {owner[district]} and {hub.id}")
                owner[district] = hub.id
        forces = [force.id for force in self.police_forces]
        if len(set(forces)) != len(forces):
            raise ValueError(f"police_forces: a force id is used twice in {forces}")
        for force in self.police_forces:
            unknown = [hub for hub in force.hubs if hub not in ids]
            if unknown:
                raise ValueError(f"police_forces: {force.id} serves {unknown}, which the region does not name")
        return self

    def hub(self, hub_id: str) -> RegionHub:
        """The hub with this id (UnknownHub if none)."""
        for hub in self.hubs:
            if hub.id == hub_id:
                return hub
        raise UnknownHub(f"the region {self.id} has no hub {hub_id!r}")

    def hub_in(self, namespace: str) -> RegionHub:
        """The hub whose namespace this is (UnknownHub if none): how a service finds which hub it is."""
        for hub in self.hubs:
            if hub.namespace == namespace:
                return hub
        raise UnknownHub(f"the region {self.id} has no hub with namespace {namespace!r}")

    def police_force(self, force_id: str) -> PoliceForce:
        """The police force with this id (UnknownPoliceForce if none)."""
        for force in self.police_forces:
            if force.id == force_id:
                return force
        raise UnknownPoliceForce(f"the region {self.id} has no police force {force_id!r}")

    def hub_for_postcode(self, postcode: str | None) -> RegionHub | None:
        """The hub whose area holds this postcode's district, or None (no postcode, or nobody's area)."""
        district = postcode_district(postcode)
        if district is None:
            return None
        return next((hub for hub in self.hubs if district in hub.areas), None)

    def route_for_force(self, force_id: str, postcodes: list[str | None]) -> PoliceRoute:
        """The hub for the first of `postcodes` (most telling first) in one of the force's hubs' areas.

        A district in a hub the force does not serve counts as no match: the force's feed has no
        business in that hub, so its default hub's screener sees the notification, flagged.
        """
        force = self.police_force(force_id)
        for postcode in postcodes:
            hub = self.hub_for_postcode(postcode)
            if hub is not None and hub.id in force.hubs:
                return PoliceRoute(hub=hub, district=postcode_district(postcode), matched=True)
        first = next((district for district in map(postcode_district, postcodes) if district), None)
        return PoliceRoute(hub=self.hub(force.default_hub), district=first, matched=False)

    def hubs_of_agency(self, agency: str) -> list[RegionHub]:
        """The hubs `agency` is a member of (a neighbouring hub, hub-<id>, is a member of every other hub)."""
        if agency.startswith(NEIGHBOUR_HUB_PREFIX):
            itself = agency.removeprefix(NEIGHBOUR_HUB_PREFIX)
            return [hub for hub in self.hubs if hub.id != itself]
        return [hub for hub in self.hubs if agency in hub.agencies]

    def agencies(self) -> list[str]:
        """Every agency that is a member of at least one hub, sorted."""
        return sorted({agency for hub in self.hubs for agency in hub.agencies})

    def neighbours(self, hub_id: str) -> list[RegionHub]:
        """The other hubs of the region: those `hub_id` may ask as virtual members and transfer to."""
        self.hub(hub_id)
        return [hub for hub in self.hubs if hub.id != hub_id]

    def police_feed_topic(self, force_id: str) -> str:
        """The one topic a force sends its notifications to, in the region's namespace."""
        return namespaced(self.namespace, police_feed_topic(self.police_force(force_id).id))

    def police_router_group(self, force_id: str) -> str:
        """The consumer group of a force's router, in the region's namespace (its copies share the feed)."""
        return namespaced(self.namespace, self.police_force(force_id).router_principal)

    def with_namespaces(self, prefix: str) -> Region:
        """The same region with every namespace under `prefix` (<prefix>-<hub id>, <prefix>-<region id>).

        For tests and demo runs, which share one cluster with other runs and must not see their topics.
        """
        return self.model_copy(update={
            "namespace": f"{prefix}-{self.id}",
            "hubs": [hub.model_copy(update={"namespace": f"{prefix}-{hub.id}"}) for hub in self.hubs],
        })

    def to_yaml(self) -> str:
        """The region as YAML that `load_region` reads back (a process is given the file, not the object)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    def write(self, path: Path) -> Path:
        """Write the region to `path` (for MASH_REGION_FILE); returns the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml(), encoding="utf-8")
        return path


def example_region_file() -> Traversable:
    """The packaged example: Westshire and Eastshire, one police force serving both."""
    return files("mash_runtime") / "region.example.yaml"


def load_region(source: Path | Traversable | str) -> Region:
    """Read and validate a region file (ConfigError naming the file and field if it is wrong)."""
    return load_config(source, Region, what="region")


def region_from_environment() -> Region | None:
    """The region named by MASH_REGION_FILE, or None for a single hub."""
    path = os.environ.get(REGION_FILE_ENV, "").strip()
    return load_region(Path(path)) if path else None
