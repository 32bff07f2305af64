"""Stop, kill and start the real Kafka brokers the tests use, through infra/stack.sh, for the fault suite.

Only brokers that infra/stack.sh started can be controlled this way (by their pid files, keeping their
data), so `BrokerControl` checks first that the stack under its cache dir runs Kafka on the port the
tests were given, and fails with instructions otherwise (e.g. a broker from testcontainers): the fault
suite is never skipped.

`ClusterStack` is a second stack of the fault suite's own: three Kafka nodes (infra/stack.sh with
MASH_KAFKA_BROKERS=3) and their own mongo-java-server, under their own cache dir and ports, sharing the
first stack's jars. Its ports default to the single stack's plus 100 (MASH_CLUSTER_KAFKA_PORT,
MASH_CLUSTER_MONGO_PORT override them), so worktrees that run their stacks side by side on different
ports also get different clusters.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from demo.kafka_access import KafkaAccess

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "infra" / "stack.sh"
STATUS_LINE = re.compile(r"^(kafka(?:-\d+)?)\s+(running|stopped)\s+pid=\S+\s+port=(\d+)\b", re.MULTILINE)


def _stack(env: dict[str, str], *args: str, check: bool = True, timeout: float = 600) -> str:
    """Run infra/stack.sh with `env`; its stdout (a failure raises with the end of its stderr)."""
    done = subprocess.run(["bash", str(STACK), *args], env=env, capture_output=True, text=True, check=False,
                          timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"infra/stack.sh {' '.join(args)} failed ({done.returncode}): {done.stderr[-3000:]}")
    return done.stdout


def _node_ports(cache: Path) -> dict[str, str]:
    """MASH_KAFKA_CONTROLLER_PORT / _TLS_PORT of node 1, read from the config the stack wrote for it."""
    for properties in (cache / "run" / "server.properties", cache / "run" / "kafka-1" / "server.properties"):
        if properties.exists():
            text = properties.read_text()
            found = {}
            if controller := re.search(r"CONTROLLER://[^:]+:(\d+)", text):
                found["MASH_KAFKA_CONTROLLER_PORT"] = controller.group(1)
            if tls := re.search(r"AGENCIES://[^:]+:(\d+)", text):
                found["MASH_KAFKA_TLS_PORT"] = tls.group(1)
            return found
    return {}


class BrokerControl:
    """Stops, kills and starts the stack's Kafka nodes: `kafka` (every node), or `kafka-1`, `kafka-2`, ..."""

    def __init__(self, bootstrap: str, cache: Path | None = None, env: dict[str, str] | None = None) -> None:
        port = bootstrap.split(",")[0].rsplit(":", 1)[-1]
        cache = cache or Path(os.environ.get("MASH_CACHE_DIR", ROOT / ".cache"))
        self._env = {**os.environ, **(env or {}), "MASH_CACHE_DIR": str(cache), "MASH_KAFKA_PORT": port,
                     **_node_ports(cache)}
        self._env.pop("MASH_KAFKA_BROKERS", None)  # the stack's recorded shape is the one to control
        status = self.status()
        first = next(iter(status.items()), None)
        if first is None or first[1] != (True, int(port)):
            raise RuntimeError(
                f"the fault suite stops and starts brokers with infra/stack.sh, but no broker it started runs on port"
                f" {port} under {cache} (status: {status!r}); run `make test`, or `bash infra/stack.sh up` with the"
                " same MASH_CACHE_DIR and MASH_KAFKA_PORT as the tests"
            )

    def status(self) -> dict[str, tuple[bool, int]]:
        """Each Kafka node's name -> (running, client port), in node order."""
        found = STATUS_LINE.findall(_stack(self._env, "status", check=False))
        return {name: (state == "running", int(port)) for name, state, port in found}

    @property
    def nodes(self) -> list[str]:
        """The nodes' names: ["kafka"] for one broker, ["kafka-1", "kafka-2", "kafka-3"] for a cluster."""
        return list(self.status())

    def stop(self, *names: str) -> None:
        """Stop the named nodes (every node by default) with SIGTERM, their data kept."""
        _stack(self._env, "stop", *(names or ("kafka",)))

    def kill(self, *names: str) -> None:
        """SIGKILL the named nodes at once: no controlled shutdown, no flush, as when a machine loses power."""
        _stack(self._env, "kill", *names)

    def start(self, *names: str) -> None:
        """Start the named nodes (every node by default) again and wait until each is ready."""
        _stack(self._env, "start", *(names or ("kafka",)))


@dataclass
class ClusterStack:
    """A three-broker stack of the tests' own (see the module's docstring), started and stopped by them."""

    cache: Path
    env: dict[str, str]
    exports: dict[str, str]

    @classmethod
    def configured(cls) -> ClusterStack:
        """Where and on which ports the cluster runs, from the environment (nothing is started)."""
        main_cache = Path(os.environ.get("MASH_CACHE_DIR") or ROOT / ".cache")
        cache = Path(os.environ.get("MASH_CLUSTER_CACHE_DIR") or main_cache / "cluster")
        kafka = int(os.environ.get("MASH_CLUSTER_KAFKA_PORT") or int(os.environ.get("MASH_KAFKA_PORT") or 9092) + 100)
        mongo = int(os.environ.get("MASH_CLUSTER_MONGO_PORT") or int(os.environ.get("MASH_MONGO_PORT") or 27017) + 100)
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("MASH_KAFKA_", "MASH_MONGO_", "MASH_AGENCY_"))}
        env = {**keep, "MASH_CACHE_DIR": str(cache), "MASH_JARS_DIR": os.environ.get("MASH_JARS_DIR", str(main_cache)),
               "MASH_KAFKA_BROKERS": "3", "MASH_KAFKA_PORT": str(kafka), "MASH_KAFKA_CONTROLLER_PORT": str(kafka + 1),
               "MASH_KAFKA_TLS_PORT": str(kafka + 2), "MASH_MONGO_PORT": str(mongo)}
        return cls(cache=cache, env=env, exports={})

    def up(self) -> None:
        """Start the cluster afresh (what an earlier run left is purged first) and read its exports."""
        _stack(self.env, "down", "--purge")
        printed = _stack(self.env, "up")
        self.exports = dict(re.findall(r"^export ([A-Z0-9_]+)=(.*)$", printed, re.MULTILINE))

    def down(self) -> None:
        """Stop every process of the cluster; its data and logs stay in the cache dir until the next `up`."""
        _stack(self.env, "down")

    @property
    def bootstrap(self) -> str:
        """Every broker's address."""
        return self.exports["MASH_KAFKA_BOOTSTRAP"]

    @property
    def mongo_url(self) -> str:
        """The cluster stack's own MongoDB-protocol server."""
        return self.exports["MASH_MONGO_URL"]

    @property
    def logs(self) -> Path:
        """Where the brokers' logs are."""
        return self.cache / "run" / "logs"

    def access(self) -> KafkaAccess:
        """The cluster's principals and passwords (its own, generated by its `up`)."""
        path = self.exports.get("MASH_KAFKA_CREDENTIALS")
        if not path:
            raise RuntimeError(f"the cluster runs without authentication; expected SCRAM (exports: {self.exports})")
        previous = os.environ.get("MASH_KAFKA_CREDENTIALS")
        os.environ["MASH_KAFKA_CREDENTIALS"] = path
        try:
            access = KafkaAccess.from_environment()
        finally:
            if previous is None:
                del os.environ["MASH_KAFKA_CREDENTIALS"]
            else:
                os.environ["MASH_KAFKA_CREDENTIALS"] = previous
        if access is None:
            raise RuntimeError(f"no admin password in {path}")
        return access

    def control(self) -> BrokerControl:
        """Stop, kill and start the cluster's nodes."""
        return BrokerControl(self.bootstrap, cache=self.cache, env=self.env)
