"""A region's ACLs as derived from infra/kafka/acls.txt: per hub, per membership, the police feed, between hubs."""

from __future__ import annotations

import pytest
from mash_runtime.region import Region, example_region_file, load_region

from demo.kafka_access import SERVICES, AclEntry, acl_entries, region_acl_entries, region_principals

pytestmark = pytest.mark.unit


@pytest.fixture
def region() -> Region:
    return load_region(example_region_file()).with_namespaces("t1")


def _of(entries: list[AclEntry], principal: str) -> set[tuple[str, str, str, str]]:
    return {(e.resource, e.pattern, e.name, e.operation) for e in entries if e.principal == principal}


def _between_hubs(name: str) -> bool:
    return any(part in name for part in ("mash.federation.transfer", "mash.enquiry.request.hub-",
                                         "mash.agency.response.hub-"))


def test_each_hubs_services_get_the_single_hub_lines_on_their_own_namespace_only(region: Region) -> None:
    entries = region_acl_entries(region)
    for hub in region.hubs:
        for service in SERVICES:
            own_between_hubs = {(e.resource, e.pattern, e.name, e.operation) for e in acl_entries(hub.namespace, [])
                                if e.principal == service == "decision" and _between_hubs(e.name)}
            single = {(e.resource, e.pattern, e.name, e.operation) for e in acl_entries(hub.namespace, [])
                      if e.principal == service} - own_between_hubs
            mine = _of(entries, hub.principal(service))
            assert single and single <= mine
            # A hub's desk never writes its own federation topic nor answers its own hub-* requests.
            assert not own_between_hubs & mine, own_between_hubs & mine
            extra = mine - single  # only the federation lines: a transfer topic, a neighbour's virtual-agency topics
            assert all(".mash.federation.transfer" in name or ".hub-" in name or "agency-hub-" in name
                       for _, _, name, _ in extra), extra
            assert all(name.startswith(f"{hub.namespace}.") or ".hub-" in name or "agency-hub-" in name
                       or "federation.transfer" in name for _, _, name, _ in mine)


def test_an_agency_has_its_lines_on_every_hub_it_is_a_member_of_and_no_other(region: Region) -> None:
    entries = region_acl_entries(region)
    police = {name for _, _, name, _ in _of(entries, "agency-police")}
    assert police == {f"{ns}.{topic}" for ns in ("t1-westshire", "t1-eastshire")
                      for topic in ("mash.enquiry.request.police", "mash.agency.response.police", "agency-police")}
    yot = {name for _, _, name, _ in _of(entries, "agency-youth-offending")}
    assert yot and all(name.startswith("t1-westshire.") for name in yot)


def test_the_force_writes_its_feed_and_its_router_reaches_the_hubs_it_serves(region: Region) -> None:
    entries = region_acl_entries(region)
    force = region.police_force("shires-police")
    feed = "t1-shires.mash.police.feed.shires-police"
    assert _of(entries, force.feed_principal) == {("TOPIC", "LITERAL", feed, "WRITE")}
    assert _of(entries, force.router_principal) == {
        ("TOPIC", "LITERAL", feed, "READ"), ("TOPIC", "LITERAL", feed, "CREATE"),
        ("GROUP", "LITERAL", "t1-shires.police-router-shires-police", "READ"),
        ("TOPIC", "LITERAL", "t1-westshire.mash.police.notification", "WRITE"),
        ("TOPIC", "LITERAL", "t1-eastshire.mash.police.notification", "WRITE"),
        ("TOPIC", "LITERAL", "t1-westshire.mash.deadletter", "WRITE"),
    }


def test_between_hubs_only_the_receiver_reads_its_transfers_and_the_answerer_has_the_virtual_agency_lines(
    region: Region,
) -> None:
    entries = region_acl_entries(region)
    transfer = "t1-westshire.mash.federation.transfer"
    readers = {e.principal for e in entries if e.name == transfer and e.operation == "READ"}
    writers = {e.principal for e in entries if e.name == transfer and e.operation == "WRITE"}
    assert (readers, writers) == ({"westshire-intake"}, {"eastshire-decision"})
    assert _of(entries, "eastshire-decision") >= {
        ("TOPIC", "LITERAL", "t1-westshire.mash.enquiry.request.hub-eastshire", "READ"),
        ("TOPIC", "LITERAL", "t1-westshire.mash.agency.response.hub-eastshire", "WRITE"),
        ("GROUP", "LITERAL", "t1-westshire.agency-hub-eastshire", "READ"),
    }


def test_every_principal_named_by_an_acl_is_one_the_region_creates(region: Region) -> None:
    principals = set(region_principals(region))
    assert {entry.principal for entry in region_acl_entries(region)} <= principals
    assert len(principals) == 21
