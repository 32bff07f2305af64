"""The hub as OS processes: five services (insight reads what the other four publish) and the simulated
agencies, each with its own log and spans.

With `people=True` it also starts the pages people use: a local OpenID Connect provider (the demo
users of infra/oidc/users.yaml) and the workspace, and every service accepts that provider's tokens.
Used by `make demo`, the end-to-end and browser tests (which kill and restart processes) and `make bench`.
On the secured native broker (infra/stack.sh) every process connects as its own Kafka principal (intake as
`intake`, the police kit as `agency-police`), and the hub grants those principals the ACLs of
infra/kafka/acls.txt on its namespace before its first process starts (demo/kafka_access.py).
`HubConfig.replicas` runs several copies of a service on the same database and topics, each on its own port,
as a deployment scales a service out; `Hub.urls` lists them, and `demo.client.HubClient` spreads its calls.
`HubConfig.region_file` and `hub_id` make it one council's hub of a region (mash_runtime.region) sharing the
cluster with the others: its processes log in as `<hub id>-<service>` and are given the region file, and
demo/region.py runs several such hubs side by side with the agencies and police routers they share.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from mash_runtime.region import Region, load_region

from demo.forkserver import FORK_SERVER_SWITCH, ForkedChild, fork_server
from demo.kafka_access import KafkaAccess
from demo.ports import free_port
from demo.waiting import eventually

SERVICES = ("intake", "decision", "enquiry", "notify", "insight")
ROOT = Path(__file__).resolve().parents[1]
OIDC_PROVIDER = ROOT / "infra" / "oidc" / "provider.py"
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child gets when the thread that started it dies
KIT_LISTENING = "FastStream app started successfully"  # what an agency kit logs once it reads its topics


def _ended_with_its_starter() -> Callable[[], None] | None:
    """A child set-up that has Linux send the service SIGTERM when the process that started it dies.

    A test run that dies without its teardown (an interrupted run, a pytest INTERNALERROR) otherwise leaves
    its hub's services running, and they go on retrying a broker and store that the next run starts on the same
    ports, burning the CPU that run needs. The kernel delivers the signal when the starting *thread* ends, so
    this is only used from the main thread (a worker thread may end long before the test does).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the starter died before the line above took effect
            os._exit(1)

    return arm


class HubProcess:
    """One running `python -m <module> ...` with its own environment and log file.

    Started with a plain exec, or forked from this process's fork server (demo.forkserver) when the environment
    says `MASH_HUB_FORK_SERVER=1`, as the tests do: either way a child of this process's main thread's making,
    ending when it ends, and stopped, killed and waited for alike.
    """

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, port: int | None = None):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.port = port
        self.proc: subprocess.Popen[bytes] | ForkedChild | None = None
        self.log_start = 0

    def start(self) -> HubProcess:
        """Start the process, appending its output to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_start = self.log_path.stat().st_size if self.log_path.exists() else 0  # this run's output begins here
        env = {**os.environ, **self.env}
        forking = os.environ.get(FORK_SERVER_SWITCH) == "1" and fork_server().usable(env)
        with self.log_path.open("ab") as log:
            if forking:
                self.proc = fork_server().start(self.argv, env, log.fileno())
            else:
                self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                    [sys.executable, *self.argv], env=env, stdout=log, stderr=subprocess.STDOUT,
                    preexec_fn=_ended_with_its_starter() if threading.current_thread() is threading.main_thread()
                    else None,
                )
        return self

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    async def wait_ready(self, timeout: float = 180.0, path: str = "/ready") -> None:
        """Wait until GET `path` answers 200; fail early, naming the log, if the process died."""
        assert self.port is not None, f"{self.name} has no HTTP port"

        async def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                async with httpx.AsyncClient(timeout=2.0) as client:
                    response = await client.get(f"http://127.0.0.1:{self.port}{path}")
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        await eventually(ready, timeout=timeout, interval=0.2, what=f"{self.name} ready on port {self.port}")

    async def wait_logged(self, marker: str, timeout: float = 180.0) -> None:
        """Wait until this run of the process has logged `marker`; fail early, naming the log, if it died."""
        async def logged() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            with self.log_path.open("rb") as log:
                log.seek(self.log_start)
                return marker.encode() in log.read()

        await eventually(logged, timeout=timeout, interval=0.2, what=f"{self.name} logging {marker!r}")

    def kill(self) -> int:
        """SIGKILL: no shutdown code runs, as when a machine loses power."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def wait_exit(self, timeout: float = 60.0) -> int:
        """Wait for the process to end by itself (e.g. after fault injection)."""
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@dataclass
class AgencyOptions:
    """How a simulated agency behaves in a run."""

    delay: str = "0.05-0.3"
    never_answer: bool = False
    copies: int = 1


@dataclass
class HubConfig:
    """Where the real servers are, and this run's namespace, folder and per-service settings."""

    kafka_bootstrap: str
    mongo_url: str
    namespace: str
    workdir: Path
    agencies: dict[str, AgencyOptions] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    people: bool = False  # also start the OIDC provider and the workspace
    replicas: dict[str, int] = field(default_factory=dict)  # copies per service (1 when not named)
    services: tuple[str, ...] = SERVICES  # which services `start()` starts
    ready_timeout: float = 180.0  # seconds a started service may take to answer /ready (a loaded CI machine)
    region_file: Path | None = None  # this hub is one of a region's (its namespace is the region's for hub_id)
    hub_id: str | None = None
    hub_env: dict[str, str] = field(default_factory=dict)  # every process of this hub (e.g. its own keys)

    def region(self) -> Region | None:
        """The region this hub belongs to (None for a hub on its own)."""
        return load_region(self.region_file) if self.region_file is not None else None


class Hub:
    """Starts, restarts and stops the hub's processes."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.ports = {name: free_port() for name in SERVICES}
        # Ports of the second and further copies of a service (the first copy listens on `ports`).
        self.more_ports = {name: [free_port() for _ in range(config.replicas.get(name, 1) - 1)] for name in SERVICES}
        self.services: dict[str, HubProcess] = {}  # the first copy of each service
        self.more_copies: dict[str, list[HubProcess]] = {name: [] for name in SERVICES}
        self.agencies: list[HubProcess] = []
        self.oidc_port = free_port() if config.people else None
        self.workspace_port = free_port() if config.people else None
        self.people: list[HubProcess] = []
        self.kafka_access = KafkaAccess.from_environment()
        self._acls_granted = False

    def _grant_acls(self) -> None:
        """Give this hub's principals their ACLs on its namespace, once (before any of its processes starts).

        Runs the grant on a loop of its own in a thread, since a hub is driven from synchronous and
        asynchronous code alike; it is a few hundred milliseconds, once per hub.
        """
        if self._acls_granted or self.kafka_access is None:
            return
        access, failure, region = self.kafka_access, [], self.config.region()

        def grant() -> None:
            try:
                if region is not None:  # the region's users and ACLs, the hub's principals among them
                    self.kafka_access = asyncio.run(access.grant_region(self.config.kafka_bootstrap, region))
                else:
                    asyncio.run(access.grant(self.config.kafka_bootstrap, self.config.namespace))
            except Exception as exc:  # re-raised below, in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=grant, name="grant-acls")
        worker.start()
        worker.join()
        if failure:
            raise failure[0]
        self._acls_granted = True

    def kafka_env(self, service: str) -> dict[str, str]:
        """The service's own Kafka credentials on the secured broker (none without authentication).

        In a region the principal is the hub's own (<hub id>-<service>), whose ACLs reach only its namespace.
        """
        if self.kafka_access is None:
            return {}
        region = self.config.region()
        if region is not None and self.config.hub_id is not None:
            principal = region.hub(self.config.hub_id).principal(service)
            prefix = f"MASH_{service.upper()}_"
            return {f"{prefix}KAFKA_USERNAME": principal,
                    f"{prefix}KAFKA_PASSWORD": self.kafka_access.password(principal)}
        return self.kafka_access.service_env(service)

    def agency_env(self, agency: str) -> dict[str, str]:
        """The agency kit's own Kafka credentials on the secured broker (none without authentication)."""
        return self.kafka_access.agency_env(agency) if self.kafka_access else {}

    @property
    def oidc_issuer(self) -> str | None:
        """The local identity provider's issuer (None without the people-facing parts)."""
        return f"http://127.0.0.1:{self.oidc_port}" if self.oidc_port else None

    @property
    def workspace_url(self) -> str:
        """Where people open the workspace."""
        assert self.workspace_port is not None, "this hub runs without the workspace"
        return f"http://127.0.0.1:{self.workspace_port}"

    def base_env(self) -> dict[str, str]:
        """What every process of this hub shares."""
        return {
            "MASH_ENVIRONMENT": "test",
            "MASH_KAFKA_BOOTSTRAP": self.config.kafka_bootstrap,
            "MASH_MONGO_URL": self.config.mongo_url,
            "MASH_TOPIC_NAMESPACE": self.config.namespace,
            "MASH_RELAY_POLL_SECONDS": "0.25",
            **({"MASH_REGION_FILE": str(self.config.region_file)} if self.config.region_file else {}),
            **self.config.hub_env,
            **({"MASH_OIDC_ISSUER": self.oidc_issuer} if self.oidc_issuer else {}),
        }

    def database(self, service: str) -> str:
        """The service's own database in this run."""
        return f"{self.config.namespace}_{service}"

    def trace_file(self, name: str) -> Path:
        """Where the process named `name` writes its spans."""
        return self.config.workdir / "traces" / f"{name}.jsonl"

    def url(self, service: str) -> str:
        """The service's HTTP base URL (its first copy)."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def urls(self, service: str) -> list[str]:
        """The HTTP base URL of every copy of the service."""
        return [f"http://127.0.0.1:{port}" for port in [self.ports[service], *self.more_ports[service]]]

    def copies(self, service: str) -> list[HubProcess]:
        """Every started copy of the service, the first one first."""
        first = [self.services[service]] if service in self.services else []
        return [*first, *self.more_copies[service]]

    def service_process(self, service: str, extra_env: dict[str, str] | None = None, copy: int = 0,
                        wrapper: str | None = None) -> HubProcess:
        """A (not yet started) process for `service` with this hub's settings; `copy` > 0 for a further replica.

        `wrapper` names a module that runs the service after preparing it (tests' fault hooks, e.g.
        tests.support.crash_before_publish); it is given the service's module name.
        """
        self._grant_acls()
        prefix = f"MASH_{service.upper()}_"
        name = service if copy == 0 else f"{service}-{copy}"
        port = self.ports[service] if copy == 0 else self.more_ports[service][copy - 1]
        env = {
            **self.base_env(),
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}MONGO_DATABASE": self.database(service),
            f"{prefix}TRACE_FILE": str(self.trace_file(name)),
            f"{prefix}LOG_FILE": str(self.config.workdir / "logs" / f"{name}.log"),
            f"{prefix}REPLICA_ID": name,  # unique per copy, the same across restarts (notify's claims)
            **self.kafka_env(service),
            **self.config.service_env.get(service, {}),
            **(extra_env or {}),
        }
        argv = ["-m", wrapper, f"mash_{service}"] if wrapper else ["-m", f"mash_{service}"]
        return HubProcess(name, argv, env, self.config.workdir / "logs" / f"{name}.out", port=port)

    async def start_service(self, service: str, extra_env: dict[str, str] | None = None, wait: bool = True,
                            wrapper: str | None = None) -> None:
        """Start (or restart) one service and wait until it is ready (`wrapper`: see `service_process`)."""
        process = self.service_process(service, extra_env, wrapper=wrapper).start()
        self.services[service] = process
        if wait:
            await process.wait_ready()

    def start_agencies(self) -> None:
        """Start every configured simulated agency (each in its own consumer group, N copies)."""
        self._grant_acls()
        for name, options in self.config.agencies.items():
            for copy in range(options.copies):
                argv = ["-m", "mash_agency", "run", "--agency", name, "--delay", options.delay]
                if options.never_answer:
                    argv.append("--never-answer")
                log = self.config.workdir / "logs" / f"agency-{name}-{copy}.log"
                env = {**self.base_env(), **self.agency_env(name)}
                self.agencies.append(HubProcess(f"agency-{name}-{copy}", argv, env, log).start())

    async def start(self) -> None:
        """Start the identity provider (if people use this hub), all four services, the agencies, the workspace."""
        if self.config.people:
            await self._start_identity_provider()
        for service in self.config.services:
            self.services[service] = self.service_process(service).start()
            self.more_copies[service] = [self.service_process(service, copy=n).start()
                                         for n in range(1, len(self.urls(service)))]
        for service in self.config.services:
            for process in self.copies(service):
                await process.wait_ready(self.config.ready_timeout)
        self.start_agencies()
        # The hub is started when its members listen: on a loaded machine a kit's start-up can take longer
        # than a test's enquiry window, and a request sent meanwhile would count as unanswered.
        await asyncio.gather(*(kit.wait_logged(KIT_LISTENING, self.config.ready_timeout) for kit in self.agencies))
        if self.config.people:
            await self._start_workspace()

    async def _start_identity_provider(self) -> None:
        assert self.oidc_port is not None
        logs = self.config.workdir / "logs"
        # The provider tells the workspace when someone signs out there (back-channel logout, issue 22).
        logout = ["--backchannel-logout-uri", f"{self.workspace_url}/auth/backchannel-logout"] \
            if self.workspace_port is not None else []
        provider = HubProcess("oidc", [str(OIDC_PROVIDER), "--host", "127.0.0.1", "--port", str(self.oidc_port),
                                       *logout], {}, logs / "oidc.log", port=self.oidc_port).start()
        self.people.append(provider)
        await provider.wait_ready(path="/.well-known/openid-configuration")

    async def _start_workspace(self) -> None:
        assert self.workspace_port is not None
        env = {
            **self.base_env(),
            "MASH_WORKSPACE_HTTP_PORT": str(self.workspace_port),
            "MASH_WORKSPACE_PUBLIC_URL": self.workspace_url,
            "MASH_WORKSPACE_MONGO_DATABASE": self.database("workspace"),  # its sessions
            "MASH_WORKSPACE_LOG_FILE": str(self.config.workdir / "logs" / "workspace.log"),
            **{f"MASH_WORKSPACE_{service.upper()}_URL": self.url(service) for service in SERVICES},
            **self.config.service_env.get("workspace", {}),
        }
        workspace = HubProcess("workspace", ["-m", "mash_workspace"], env,
                               self.config.workdir / "logs" / "workspace.out", port=self.workspace_port).start()
        self.people.append(workspace)
        await workspace.wait_ready()

    def stop(self) -> None:
        """Stop every process this hub started."""
        for process in [*self.people, *self.agencies, *self.services.values(),
                        *(copy for copies in self.more_copies.values() for copy in copies)]:
            process.stop()
