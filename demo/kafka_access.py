"""Who each process is on the secured native broker: its SCRAM credentials, and ACLs for a run's namespace.

`infra/stack.sh up` starts Kafka with SASL/SCRAM and ACLs (docs/deploy.md) and writes every principal's
password to a git-ignored file, `<cache>/run/kafka-credentials.env` (`MASH_KAFKA_CREDENTIALS` names it;
`<cache>` is MASH_CACHE_DIR or the repository's .cache). Each process the demo, the tests and the bench
start gets its own principal from there: intake connects as `intake`, the police kit as `agency-police`,
the police feed as `police-feed`. The stack grants ACLs for the hub without a namespace; a run under a
namespace of its own (every test, the demo, the bench) asks `KafkaAccess.grant` for the same ACLs on its
namespace, from the one table in infra/kafka/acls.txt.

Without the file (a stack started with MASH_KAFKA_INSECURE=1, or a broker from testcontainers), every
helper here returns nothing and clients connect without authentication, as before.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACL_TABLE = ROOT / "infra" / "kafka" / "acls.txt"
AGENCIES_FILE = ROOT / "services" / "enquiry" / "src" / "mash_enquiry" / "config" / "agencies.yaml"
CREDENTIALS_ENV = "MASH_KAFKA_CREDENTIALS"
ADMIN = "admin"
SERVICES = ("intake", "decision", "enquiry", "notify", "insight")
POLICE_FEED = "police-feed"

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


def acl_entries(namespace: str, agencies: list[str]) -> list[AclEntry]:
    """infra/kafka/acls.txt for `namespace` ("" for none) and these agencies."""
    prefix = f"{namespace}." if namespace else ""
    entries: list[AclEntry] = []
    for raw in ACL_TABLE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        principal, resource, pattern, name, operations = line.split()
        for agency in agencies if "{agency}" in line else [""]:
            def fill(text: str, agency: str = agency) -> str:
                return text.replace("{ns}", prefix).replace("{agency}", agency)

            entries += [AclEntry(fill(principal), resource, pattern, fill(name), operation)
                        for operation in operations.split(",")]
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
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.protocol.admin import CreateAclsRequest

        entries = acl_entries(namespace, agencies if agencies is not None else configured_agencies())
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **self.client_options(ADMIN))
        await admin.start()
        try:
            for entry in entries:
                request = CreateAclsRequest(_RESOURCE[entry.resource], entry.name, _PATTERN[entry.pattern],
                                            f"User:{entry.principal}", "*", _OPERATION[entry.operation], _ALLOW)
                response = await admin._send_request(request)  # no public ACL API in aiokafka
                for result in response.creation_responses:
                    if result[0] != 0:
                        raise RuntimeError(f"could not create the ACL {entry}: error {result[0]} {result[1]}")
        finally:
            await admin.close()
        return len(entries)


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
