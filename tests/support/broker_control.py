"""Stop, kill and start the real Kafka brokers the tests use, through infra/stack.sh, for the fault suite.

Only brokers that infra/stack.sh started can be controlled this way (by their pid files, keeping their
data), so `BrokerControl` checks first that the stack under its cache dir runs Kafka on the port the
tests were given, and fails with instructions otherwise (e.g. a broker from testcontainers): the fault
suite is never skipped.

`OwnStack` is a stack of the fault suite's own, beside the one every other test shares, under its own cache
dir and ports and sharing the first stack's jars:
- `OwnStack.cluster()`: three Kafka nodes (infra/stack.sh with MASH_KAFKA_BROKERS=3) and a mongo-java-server,
  on the shared stack's ports plus 100 (MASH_CLUSTER_KAFKA_PORT, MASH_CLUSTER_MONGO_PORT override them);
- `OwnStack.single_broker()`: one Kafka node and a mongo-java-server for the test that stops the broker
  under load, on the shared stack's ports plus 200 (MASH_FAULTS_KAFKA_PORT, MASH_FAULTS_MONGO_PORT).
Because no fault test stops or restarts the shared broker, `make test` runs the fault suite beside the other
real-stack tests (docs/testing.md). Worktrees that run their stacks side by side on different ports also get
different fault stacks.
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
class OwnStack:
    """A stack of the fault suite's own (see the module's docstring), started and stopped by it."""

    cache: Path
    env: dict[str, str]
    exports: dict[str, str]

    @classmethod
    def cluster(cls) -> OwnStack:
        """The three-broker cluster: where and on which ports it runs (nothing is started)."""
        return cls.configured(brokers=3, name="cluster", offset=100, override="MASH_CLUSTER")

    @classmethod
    def single_broker(cls) -> OwnStack:
        """One broker the fault suite may stop and start while the other tests use theirs."""
        return cls.configured(brokers=1, name="faults-broker", offset=200, override="MASH_FAULTS")

    @classmethod
    def configured(cls, *, brokers: int, name: str, offset: int, override: str) -> OwnStack:
        """A stack of `brokers` Kafka nodes under <cache>/`name`, on the shared stack's ports plus `offset`
        unless `override`_KAFKA_PORT / _MONGO_PORT / _CACHE_DIR say otherwise."""
        main_cache = Path(os.environ.get("MASH_CACHE_DIR") or ROOT / ".cache")
        cache = Path(os.environ.get(f"{override}_CACHE_DIR") or main_cache / name)
        kafka = int(os.environ.get(f"{override}_KAFKA_PORT") or int(os.environ.get("MASH_KAFKA_PORT") or 9092) + offset)
        mongo = int(os.environ.get(f"{override}_MONGO_PORT") or int(os.environ.get("MASH_MONGO_PORT") or 27017) + offset)
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("MASH_KAFKA_", "MASH_MONGO_", "MASH_AGENCY_"))}
        env = {**keep, "MASH_CACHE_DIR": str(cache), "MASH_JARS_DIR": os.environ.get("MASH_JARS_DIR", str(main_cache)),
               "MASH_KAFKA_BROKERS": str(brokers), "MASH_KAFKA_PORT": str(kafka),
               "MASH_KAFKA_CONTROLLER_PORT": str(kafka + 1), "MASH_KAFKA_TLS_PORT": str(kafka + 2),
               "MASH_MONGO_PORT": str(mongo)}
        return cls(cache=cache, env=env, exports={})

    def up(self) -> None:
        """Start the stack afresh (what an earlier run left is purged first) and read its exports."""
        _stack(self.env, "down", "--purge")
        printed = _stack(self.env, "up")
        self.exports = dict(re.findall(r"^export ([A-Z0-9_]+)=(.*)$", printed, re.MULTILINE))

    def down(self) -> None:
        """Stop every process of the stack; its data and logs stay in the cache dir until the next `up`."""
        _stack(self.env, "down")

    @property
    def bootstrap(self) -> str:
        """Every broker's address."""
        return self.exports["MASH_KAFKA_BOOTSTRAP"]

    @property
    def mongo_url(self) -> str:
        """The stack's own MongoDB-protocol server."""
        return self.exports["MASH_MONGO_URL"]

    @property
    def logs(self) -> Path:
        """Where the brokers' logs are."""
        return self.cache / "run" / "logs"

    def access(self) -> KafkaAccess:
        """The stack's principals and passwords (its own, generated by its `up`)."""
        path = self.exports.get("MASH_KAFKA_CREDENTIALS")
        if not path:
            raise RuntimeError(f"the stack runs without authentication; expected SCRAM (exports: {self.exports})")
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
        """Stop, kill and start the stack's Kafka nodes."""
        return BrokerControl(self.bootstrap, cache=self.cache, env=self.env)
