"""Who each process is on the secured native broker: its SCRAM credentials, and ACLs for a run's namespace.

`infra/stack.sh up` starts Kafka with SASL/SCRAM and ACLs (docs/deploy.md) and writes every principal's
password to a git-ignored file, `<cache>/run/kafka-credentials.env` (`MASH_KAFKA_CREDENTIALS` names it;
`<cache>` is MASH_CACHE_DIR or the repository's .cache). Each process the demo, the tests and the bench
start gets its own principal from there: intake connects as `intake`, the police kit as `agency-police`,
the police feed as `police-feed`. The stack grants ACLs for the hub without a namespace; a run under a
namespace of its own (every test, the demo, the bench) asks `KafkaAccess.grant` for the same ACLs on its
namespace, from the one table in infra/kafka/acls.txt.

A region (mash_runtime.region: several hubs on one cluster) has principals of its own: each hub's
services log in as `<hub id>-<service>` with the service lines of the table on that hub's namespace only,
an agency keeps its one principal with the agency lines on every hub it is a member of, each police force
sends its one feed as `police-feed-<force>` and its router passes notifications on as `police-router-<force>`,
and the federation lines let hubs address each other (docs/federation.md). `region_acl_entries` derives
them from the same table; `KafkaAccess.grant_region` creates the users (passwords added to the same
credentials file, through `infra/stack.sh security`) and the ACLs.

Without the file (a stack started with MASH_KAFKA_INSECURE=1, or a broker from testcontainers), every
helper here returns nothing and clients connect without authentication, as before.
"""

from __future__ import annotations

import fcntl
import functools
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mash_runtime.region import Region, neighbour_agency_id
from mash_schemas.topics import DEAD_LETTER, FEDERATION_TRANSFER, POLICE_NOTIFICATION

from demo.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
ACL_TABLE = ROOT / "infra" / "kafka" / "acls.txt"
AGENCIES_FILE = ROOT / "services" / "enquiry" / "src" / "mash_enquiry" / "config" / "agencies.yaml"
CREDENTIALS_ENV = "MASH_KAFKA_CREDENTIALS"
ADMIN = "admin"
SERVICES = ("intake", "decision", "enquiry", "notify", "insight")
POLICE_FEED = "police-feed"
STACK_SCRIPT = ROOT / "infra" / "stack.sh"
# The service whose principal answers another hub's enquiry as its virtual member hub-<id> (issue 20, F2):
# the desk holds the case files (open case, plan, outcome, allocated team) such an answer is made from.
NEIGHBOUR_RESPONDER = "decision"
_BETWEEN_HUBS = (FEDERATION_TRANSFER, "mash.enquiry.request.hub-", "mash.agency.response.hub-")

# Kafka's wire codes (org.apache.kafka.common.acl / resource): resource type, pattern type, operation.
_RESOURCE = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4}
_PATTERN = {"LITERAL": 3, "PREFIXED": 4}
_OPERATION = {"READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8}
_ALLOW = 3


def credentials_path() -> Path:
    """Where the stack writes the credentials: MASH_KAFKA_CREDENTIALS, else <cache>/run/kafka-credentials.env."""
    named = os.environ.get(CREDENTIALS_ENV)
    if named:
        return Path(named)
    return Path(os.environ.get("MASH_CACHE_DIR") or ROOT / ".cache") / "run" / "kafka-credentials.env"


def agency_principal(agency: str) -> str:
    """The principal an agency's kit connects as."""
    return f"agency-{agency}"


@dataclass(frozen=True)
class AclEntry:
    """One allow-ACL: principal, resource type, pattern type, resource name, operation."""

    principal: str
    resource: str
    pattern: str
    name: str
    operation: str


def _table() -> list[tuple[str, str, str, str, str]]:
    """infra/kafka/acls.txt's lines: principal, resource, pattern, name, operations (placeholders unfilled)."""
    lines = []
    for raw in ACL_TABLE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            principal, resource, pattern, name, operations = line.split()
            lines.append((principal, resource, pattern, name, operations))
    return lines


def _fill(line: tuple[str, str, str, str, str], namespace: str, agency: str = "",
          principal: str | None = None) -> list[AclEntry]:
    """One table line on `namespace` ("" for none) for `agency`, optionally as another principal."""
    prefix = f"{namespace}." if namespace else ""

    def fill(text: str) -> str:
        return text.replace("{ns}", prefix).replace("{agency}", agency)

    who, resource, pattern, name, operations = line
    return [AclEntry(principal or fill(who), resource, pattern, fill(name), operation)
            for operation in operations.split(",")]


def acl_entries(namespace: str, agencies: list[str]) -> list[AclEntry]:
    """infra/kafka/acls.txt for `namespace` ("" for none) and these agencies."""
    entries: list[AclEntry] = []
    for line in _table():
        for agency in agencies if "{agency}" in line[0] + line[3] else [""]:
            entries += _fill(line, namespace, agency)
    return entries


def region_principals(region: Region) -> list[str]:
    """Every principal a region needs besides the operator: hub services, agencies, police feeds and routers."""
    principals = [hub.principal(service) for hub in region.hubs for service in SERVICES]
    principals += [agency_principal(agency) for agency in region.agencies()]
    for force in region.police_forces:
        principals += [force.feed_principal, force.router_principal]
    return principals


def region_acl_entries(region: Region) -> list[AclEntry]:
    """The ACLs of a region: the table per hub and per membership, the police feeds, the federation lines.

    - each hub's services: the table's service lines on that hub's namespace only, as <hub id>-<service>;
    - each agency: the table's agency lines on every hub it is a member of (one principal for all);
    - each police force: its feed principal WRITEs its one feed topic; its router READs (and CREATEs) it,
      in its own group, WRITEs the police notification topic of every hub the force serves, and sets a
      record that is no notification aside on the default hub's dead-letter topic;
    - between hubs (every ordered pair, asker and answerer): the answerer's NEIGHBOUR_RESPONDER principal
      has the agency lines for hub-<answerer> on the asker's namespace, and the answerer's decision may
      WRITE the asker's federation transfer topic, which only the asker's intake READs.
    """
    table = _table()
    # The table's own between-hub lines serve one principal per service (no region): a hub's decision writing
    # federation topics and answering hub-* requests on whatever namespace it is granted. In a region the lines
    # below give exactly those rights on the other hubs' namespaces, so a hub never holds them on its own.
    services = [line for line in table if line[0] in SERVICES
                and not (line[0] == NEIGHBOUR_RESPONDER and any(part in line[3] for part in _BETWEEN_HUBS))]
    agency_lines = [line for line in table if "{agency}" in line[0]]
    entries: list[AclEntry] = []
    for hub in region.hubs:
        for line in services:
            entries += _fill(line, hub.namespace, principal=hub.principal(line[0]))
        transfer = hub.topic(FEDERATION_TRANSFER)
        entries += [AclEntry(hub.principal("intake"), "TOPIC", "LITERAL", transfer, operation)
                    for operation in ("READ", "CREATE")]
        for neighbour in region.neighbours(hub.id):
            entries.append(AclEntry(neighbour.principal("decision"), "TOPIC", "LITERAL", transfer, "WRITE"))
            responder = neighbour.principal(NEIGHBOUR_RESPONDER)
            for line in agency_lines:
                entries += _fill(line, hub.namespace, neighbour_agency_id(neighbour.id), principal=responder)
    for agency in region.agencies():
        for hub in region.hubs_of_agency(agency):
            for line in agency_lines:
                entries += _fill(line, hub.namespace, agency)
    for force in region.police_forces:
        feed = region.police_feed_topic(force.id)
        entries += [AclEntry(force.feed_principal, "TOPIC", "LITERAL", feed, "WRITE"),
                    AclEntry(force.router_principal, "TOPIC", "LITERAL", feed, "READ"),
                    AclEntry(force.router_principal, "TOPIC", "LITERAL", feed, "CREATE"),
                    AclEntry(force.router_principal, "GROUP", "LITERAL", region.police_router_group(force.id),
                             "READ"),
                    AclEntry(force.router_principal, "TOPIC", "LITERAL",
                             region.hub(force.default_hub).topic(DEAD_LETTER), "WRITE")]
        entries += [AclEntry(force.router_principal, "TOPIC", "LITERAL",
                             region.hub(hub_id).topic(POLICE_NOTIFICATION), "WRITE") for hub_id in force.hubs]
    return entries


def configured_agencies() -> list[str]:
    """The agency ids of the packaged agency directory."""
    document = yaml.safe_load(AGENCIES_FILE.read_text(encoding="utf-8"))
    return sorted(document["agencies"])


@dataclass(frozen=True)
class KafkaAccess:
    """The principals and passwords of the secured stack."""

    passwords: dict[str, str]
    tls_bootstrap: str | None = None  # the agency listener (SASL over TLS), and the CA that signed it
    ca_file: Path | None = None

    @classmethod
    def from_environment(cls) -> KafkaAccess | None:
        """The stack's credentials, or None when the broker runs without authentication."""
        path = credentials_path()
        if not path.is_file():
            return None
        passwords: dict[str, str] = {}
        values: dict[str, str] = {}
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("#") or "=" not in line:
                continue
            key, value = line.removeprefix("export ").split("=", 1)
            values[key] = value.strip("'\"")
            if key.startswith("MASH_KAFKA_PASSWORD_"):
                passwords[key.removeprefix("MASH_KAFKA_PASSWORD_").lower().replace("_", "-")] = values[key]
        if ADMIN not in passwords:
            return None
        ca_file = values.get("MASH_KAFKA_CA_FILE")
        return cls(passwords, values.get("MASH_KAFKA_TLS_BOOTSTRAP"), Path(ca_file) if ca_file else None)

    def password(self, principal: str) -> str:
        """The principal's password (KeyError for a principal the stack did not create)."""
        return self.passwords[principal]

    def client_options(self, principal: str = ADMIN) -> dict[str, Any]:
        """aiokafka keyword arguments that log `principal` in (SASL_PLAINTEXT, SCRAM-SHA-512)."""
        return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": principal, "sasl_plain_password": self.password(principal)}

    def service_env(self, service: str) -> dict[str, str]:
        """The environment that makes `service` (MASH_<SERVICE>_ settings) connect as its own principal."""
        principal = service if service in self.passwords else ADMIN
        prefix = f"MASH_{service.upper()}_"
        return {f"{prefix}KAFKA_USERNAME": principal, f"{prefix}KAFKA_PASSWORD": self.password(principal)}

    def agency_env(self, agency: str) -> dict[str, str]:
        """The environment that makes the agency kit connect as the agency, creating no topics."""
        principal = agency_principal(agency)
        if principal not in self.passwords:  # an agency the packaged directory does not have: as the operator
            principal = ADMIN
        return {"MASH_AGENCY_USERNAME": principal, "MASH_AGENCY_PASSWORD": self.password(principal),
                "MASH_AGENCY_CREATE_TOPICS": "false"}

    async def grant(self, bootstrap: str, namespace: str, agencies: list[str] | None = None) -> int:
        """Create the ACLs of infra/kafka/acls.txt for `namespace`, as the operator; returns how many.

        Idempotent (an ACL that exists is left as it is). aiokafka's admin client has no ACL call, so
        the CreateAcls request (one ACL each) goes through its request path.
        """
        entries = acl_entries(namespace, agencies if agencies is not None else configured_agencies())
        await self._create_acls(bootstrap, entries)
        return len(entries)

    async def grant_region(self, bootstrap: str, region: Region) -> KafkaAccess:
        """Create a region's users (once each) and ACLs (region_acl_entries); returns the access with their passwords.

        A password is generated into the credentials file the first time a principal is named, and the
        user is created through `infra/stack.sh security` (SCRAM users need the broker's admin API, which
        aiokafka lacks); a principal already created is not touched again. Idempotent, and safe when
        several test processes grant regions at once (the credentials file is locked meanwhile).
        """
        created = ensure_users(bootstrap, region_principals(region))
        access = KafkaAccess.from_environment() if created else self
        assert access is not None, "the credentials file went away while the region's users were created"
        await access._create_acls(bootstrap, region_acl_entries(region))
        return access

    async def _create_acls(self, bootstrap: str, entries: list[AclEntry]) -> None:
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.protocol.admin import CreateAclsRequest

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **self.client_options(ADMIN))
        # A region has hundreds of ACLs and the broker answers one request per connection at a time, each
        # after its controller commit: one request carries a batch (CreateAcls v1 takes a list).
        class ManyAcls(CreateAclsRequest):  # type: ignore[misc]  # aiokafka is untyped here
            def __init__(self, batch: list[AclEntry]) -> None:
                self.batch = batch

            def build(self, struct: Any) -> Any:
                rows = [(_RESOURCE[e.resource], e.name, _PATTERN[e.pattern], f"User:{e.principal}", "*",
                         _OPERATION[e.operation], _ALLOW) for e in self.batch]
                if struct.API_VERSION < 1:  # v0 has no pattern type (literal only)
                    return struct([(r[0], r[1], *r[3:]) for r in rows])
                return struct(rows)

        await admin.start()
        try:
            for start in range(0, len(entries), 100):
                batch = entries[start:start + 100]
                response = await admin._send_request(ManyAcls(batch))  # no public ACL API in aiokafka
                for entry, result in zip(batch, response.creation_responses, strict=True):
                    if result[0] != 0:
                        raise RuntimeError(f"could not create the ACL {entry}: error {result[0]} {result[1]}")
            if entries:
                await _visible_on_every_broker(admin, entries[-1])
        finally:
            await admin.close()


async def _visible_on_every_broker(admin: Any, last: AclEntry) -> None:
    """Wait until every broker's authorizer holds `last`, the newest ACL created (so all before it too).

    CreateAcls answers once the controller has committed the records; each broker applies them from the
    metadata log a moment later. A client let in by a broker that has not yet applied them is refused
    (seen under load: an agency's first write refused right after its namespace was granted).
    DescribeAcls is answered from the broker's own authorizer, and the log is applied in order.
    """
    from aiokafka.protocol.admin import DescribeAclsRequest

    wanted = DescribeAclsRequest(_RESOURCE[last.resource], last.name, _PATTERN[last.pattern], f"User:{last.principal}",
                                 "*", _OPERATION[last.operation], _ALLOW)
    for broker in admin._client.cluster.brokers():
        async def holds(node_id: int = broker.nodeId) -> bool:
            response = await admin._send_request_to_node(node_id, wanted)
            return bool(response.error_code == 0 and response.resources)

        await eventually(holds, timeout=60, interval=0.1, what=f"broker {broker.nodeId} applying the new ACLs")


def ensure_users(bootstrap: str, principals: list[str]) -> list[str]:
    """Give every principal a password in the credentials file and a SCRAM user on the broker; returns the new ones.

    The users already created are listed beside the credentials (security/region-users), so a second
    region or a second test creates only the principals it adds; `infra/stack.sh down --purge` deletes both.
    """
    path = credentials_path()
    made = path.parent / "security" / "region-users"
    made.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / "security" / "region-users.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = set(made.read_text(encoding="utf-8").split()) if made.is_file() else set()
        wanted = [principal for principal in dict.fromkeys(principals) if principal not in done]
        if not wanted:
            return []
        text = path.read_text(encoding="utf-8")
        known = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line}
        added = [f"{_password_key(p)}={secrets.token_hex(24)}" for p in wanted if _password_key(p) not in known]
        if added:
            # infra/stack.sh rewrites this file when Kafka (re)starts, holding <cache>/stack.lock: append under it.
            with (path.parents[1] / "stack.lock").open("a") as stack_lock:
                fcntl.flock(stack_lock, fcntl.LOCK_EX)
                text = path.read_text(encoding="utf-8")
                with path.open("a", encoding="utf-8") as out:
                    out.write(("" if text.endswith("\n") else "\n") + "\n".join(added) + "\n")
        access = KafkaAccess.from_environment()
        assert access is not None
        spec = path.parent / "security" / f"region-users-{os.getpid()}.spec"
        spec.write_text("".join(f"user {p} {access.password(p)}\n" for p in wanted), encoding="utf-8")
        spec.chmod(0o600)
        port = bootstrap.split(",")[0].rsplit(":", 1)[1]
        env = {**os.environ, "MASH_CACHE_DIR": str(path.parents[1]), "MASH_KAFKA_PORT": port}
        try:
            result = subprocess.run(["bash", str(STACK_SCRIPT), "security", str(spec)],  # noqa: S603, S607
                                    env=env, capture_output=True, text=True, timeout=300, check=False)
        finally:
            spec.unlink(missing_ok=True)
        if result.returncode != 0:
            raise RuntimeError(f"infra/stack.sh security failed ({result.returncode}): {result.stderr[-2000:]}")
        with made.open("a", encoding="utf-8") as out:
            out.write("".join(f"{p}\n" for p in wanted))
        return wanted


def _password_key(principal: str) -> str:
    """The credentials file's key for a principal's password (as infra/stack.sh's env_key writes it)."""
    return "MASH_KAFKA_PASSWORD_" + principal.upper().replace("-", "_")


def authenticate_raw_clients(access: KafkaAccess, principal: str = ADMIN) -> Callable[[], None]:
    """Make aiokafka producers, consumers and admin clients log in as `principal` unless told otherwise.

    For harness code (tests, the bench) that reads and writes topics directly with aiokafka, as an
    operator would with kcat: it keeps working on the secured broker without each call site carrying
    credentials. Returns the function that undoes it.
    """
    import aiokafka
    import aiokafka.admin

    options = access.client_options(principal)
    originals: list[tuple[type[Any], Any]] = []
    for cls in (aiokafka.AIOKafkaProducer, aiokafka.AIOKafkaConsumer, aiokafka.admin.AIOKafkaAdminClient):
        original = cls.__init__
        originals.append((cls, original))

        @functools.wraps(original)
        def init(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> None:
            if "security_protocol" not in kwargs:
                kwargs = {**options, **kwargs}
            __original(self, *args, **kwargs)

        cls.__init__ = init

    def undo() -> None:
        for cls, original in originals:
            cls.__init__ = original

    return undo


def main(argv: list[str] | None = None) -> int:
    """`python -m demo.kafka_access region [FILE]`: create a region's users and ACLs on the local stack.

    FILE defaults to MASH_REGION_FILE, else the packaged example; the broker is MASH_KAFKA_BOOTSTRAP.
    Prints each principal and how many ACLs it has (the passwords stay in the credentials file).
    """
    import argparse
    import asyncio

    from mash_runtime.region import example_region_file, load_region, region_from_environment

    parser = argparse.ArgumentParser(prog="python -m demo.kafka_access", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    region_command = commands.add_parser("region", help="create a region's users and ACLs")
    region_command.add_argument("file", nargs="?", type=Path)
    args = parser.parse_args(argv)
    region = (load_region(args.file) if args.file else region_from_environment()) or load_region(example_region_file())
    access = KafkaAccess.from_environment()
    if access is None:
        print(f"no credentials at {credentials_path()}: the broker runs without authentication", file=sys.stderr)
        return 2
    bootstrap = os.environ.get("MASH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    asyncio.run(access.grant_region(bootstrap, region))
    entries = region_acl_entries(region)
    for principal in region_principals(region):
        print(f"{principal:<32} {sum(entry.principal == principal for entry in entries):>4} ACLs")
    print(f"region {region.id}: {len(region_principals(region))} principals, {len(entries)} ACLs on {bootstrap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
