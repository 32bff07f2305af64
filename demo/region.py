"""Several councils' hubs side by side on one cluster, as OS processes: a region (docs/federation.md).

Each hub is a `demo.hub.Hub` of its own (its services, databases, principals, optionally its identity
provider and workspace) in the namespace the region file gives it. What the hubs share runs once: one
agency kit per agency, answering every hub that lists it, and one police router per force, passing the
force's one feed on to the hub whose area holds the child's address. Used by the federation tests and
`make demo`'s two-hub part; `send_to_force_feed` is the force's own system.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from mash_intake.front_door import police_contact_id
from mash_runtime.region import Region, load_region
from mash_schemas.police import PoliceNotification, PoliceNotificationReceived

from demo.client import HubClient
from demo.hub import KIT_LISTENING, AgencyOptions, Hub, HubConfig, HubProcess
from demo.kafka_access import ADMIN, KafkaAccess, agency_principal
from demo.waiting import eventually


@dataclass
class RegionConfig:
    """Where the servers are, the region file (namespaces included), and what each hub runs."""

    kafka_bootstrap: str
    mongo_url: str
    region_file: Path
    workdir: Path
    agencies: dict[str, AgencyOptions] = field(default_factory=dict)  # kits to run, each for all its hubs
    service_env: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # hub id -> service -> env
    people: bool = False
    routers: bool = True  # a police router per force
    services: tuple[str, ...] | None = None  # which services each hub starts (all when None)


class RegionRun:
    """Starts and stops a region's hubs, the agency kits they share and the police routers."""

    def __init__(self, config: RegionConfig) -> None:
        self.config = config
        self.region: Region = load_region(config.region_file)
        self.hubs: dict[str, Hub] = {}
        # Each council's own keys: a token one hub issues is worthless at another, and neither can open the
        # other's seals (development values, made per run; a deployment has its own secrets per hub).
        self.jwt_secrets = {hub.id: secrets.token_urlsafe(48) for hub in self.region.hubs}
        for region_hub in self.region.hubs:
            hub_config = HubConfig(
                kafka_bootstrap=config.kafka_bootstrap, mongo_url=config.mongo_url, namespace=region_hub.namespace,
                workdir=config.workdir / region_hub.id, service_env=config.service_env.get(region_hub.id, {}),
                people=config.people, region_file=config.region_file, hub_id=region_hub.id,
                hub_env={"MASH_JWT_SECRET": self.jwt_secrets[region_hub.id],
                         "MASH_SEALING_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()},
            )
            if config.services is not None:
                hub_config.services = config.services
            self.hubs[region_hub.id] = Hub(hub_config)
        self.shared: list[HubProcess] = []  # agency kits and police routers

    def hub(self, hub_id: str) -> Hub:
        """The running hub of this council."""
        return self.hubs[hub_id]

    def client(self, hub_id: str) -> HubClient:
        """Staff of this council's hub (tokens signed with its own secret); close it after use."""
        return HubClient(self.hubs[hub_id], secret=self.jwt_secrets[hub_id])

    @property
    def kafka_access(self) -> KafkaAccess | None:
        """The stack's credentials once the region's users exist (None without authentication)."""
        return next(iter(self.hubs.values())).kafka_access

    def _base_env(self) -> dict[str, str]:
        return {"MASH_ENVIRONMENT": "test", "MASH_KAFKA_BOOTSTRAP": self.config.kafka_bootstrap,
                "MASH_REGION_FILE": str(self.config.region_file)}

    def grant(self) -> None:
        """Create the region's users and ACLs (once; every hub's processes need them)."""
        first = next(iter(self.hubs.values()))
        first._grant_acls()
        for hub in self.hubs.values():  # the same credentials and ACLs serve every hub of the region
            hub.kafka_access, hub._acls_granted = first.kafka_access, True

    def agency_process(self, agency: str, options: AgencyOptions | None = None, copy: int = 0) -> HubProcess:
        """One copy of an agency's kit answering every hub of the region that lists the agency (not started)."""
        options = options or AgencyOptions()
        argv = ["-m", "mash_agency", "run", "--agency", agency, "--delay", options.delay,
                "--region-file", str(self.config.region_file)]
        if options.never_answer:
            argv.append("--never-answer")
        env = {**self._base_env(), "MASH_AGENCY_CREATE_TOPICS": "false"}
        access = self.kafka_access
        if access is not None:
            principal = agency_principal(agency)
            env |= {"MASH_AGENCY_USERNAME": principal, "MASH_AGENCY_PASSWORD": access.password(principal)}
        name = f"agency-{agency}-{copy}"
        return HubProcess(name, argv, env, self.config.workdir / "logs" / f"{name}.log")

    def router_process(self, force_id: str) -> HubProcess:
        """The police router of one force (not started)."""
        force = self.region.police_force(force_id)
        env = {**self._base_env(), "MASH_POLICE_ROUTER_FORCE": force.id,
               "MASH_POLICE_ROUTER_LOG_FILE": str(self.config.workdir / "logs" / f"router-{force.id}.log")}
        access = self.kafka_access
        if access is not None:
            env |= {"MASH_POLICE_ROUTER_KAFKA_USERNAME": force.router_principal,
                    "MASH_POLICE_ROUTER_KAFKA_PASSWORD": access.password(force.router_principal)}
        return HubProcess(f"router-{force.id}", ["-m", "mash_intake.police_router"], env,
                          self.config.workdir / "logs" / f"router-{force.id}.out")

    async def start(self) -> None:
        """Start every hub (one after another: a two-core machine), then the shared kits and routers."""
        await asyncio.to_thread(self.grant)
        for hub in self.hubs.values():
            await hub.start()
        kits = [self.agency_process(agency, options, copy).start()
                for agency, options in self.config.agencies.items() for copy in range(options.copies)]
        self.shared += kits
        await asyncio.gather(*(kit.wait_logged(KIT_LISTENING) for kit in kits))
        if self.config.routers:
            self.shared += [self.router_process(force.id).start() for force in self.region.police_forces]
            await self._feeds_exist()

    async def _feeds_exist(self) -> None:
        """Wait until every router has created its force's feed (the force may only write to it)."""
        from aiokafka.admin import AIOKafkaAdminClient
        from mash_runtime.topics_admin import unknown_topics

        feeds = {self.region.police_feed_topic(force.id) for force in self.region.police_forces}
        access = self.kafka_access
        admin = AIOKafkaAdminClient(bootstrap_servers=self.config.kafka_bootstrap,
                                    **(access.client_options(ADMIN) if access else {}))
        await admin.start()
        try:
            async def created() -> bool:
                for process in self.shared:
                    if not process.running:
                        raise AssertionError(f"{process.name} exited; see {process.log_path}")
                return not await unknown_topics(admin, sorted(feeds))  # asks about these topics only

            await eventually(created, timeout=120, interval=0.2, what="the police routers' feeds")
        finally:
            await admin.close()

    def stop(self) -> None:
        """Stop everything this region started."""
        for process in self.shared:
            process.stop()
        for hub in self.hubs.values():
            hub.stop()


async def send_to_force_feed(bootstrap: str, region: Region, force_id: str, notification: dict[str, Any]) -> str:
    """Put a notification on a force's one feed, as the force's system would (as police-feed-<force>).

    Returns the contact id the receiving hub's intake will give it (the same in whichever hub it lands).
    """
    payload = PoliceNotification.model_validate(notification)
    event = PoliceNotificationReceived.build(payload, correlation_id=payload.notification_id,
                                             producer=f"police:{payload.force}"[:64])
    access = KafkaAccess.from_environment()
    login = access.client_options(region.police_force(force_id).feed_principal) if access else {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **login)
    await producer.start()
    try:
        await producer.send_and_wait(region.police_feed_topic(force_id), event.model_dump_json().encode(),
                                     key=payload.notification_id.encode())
    finally:
        await producer.stop()
    return police_contact_id(payload)


def region_for_run(source: Path | None, workdir: Path, prefix: str | None = None) -> Path:
    """Write the region (the packaged example when `source` is None) under this run's own namespaces.

    A run shares the cluster with other runs, so every hub's namespace becomes <prefix>-<hub id>.
    """
    from mash_runtime.region import example_region_file

    region = load_region(source if source is not None else example_region_file())
    return region.with_namespaces(prefix or f"r{uuid.uuid4().hex[:8]}").write(workdir / "region.yaml")
