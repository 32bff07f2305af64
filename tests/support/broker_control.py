"""Stop and start the real Kafka broker the tests use, through infra/stack.sh, for the fault suite.

Only a broker that infra/stack.sh started can be restarted this way (by its pid file, keeping its data),
so this checks first that the stack under MASH_CACHE_DIR runs Kafka on the port the tests were given, and
fails with instructions otherwise (e.g. a broker from testcontainers): the fault suite is never skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "infra" / "stack.sh"


class BrokerControl:
    """Restarts the stack's broker; its controller port is read from the config the stack wrote."""

    def __init__(self, bootstrap: str) -> None:
        port = bootstrap.rsplit(":", 1)[-1]
        cache = Path(os.environ.get("MASH_CACHE_DIR", ROOT / ".cache"))
        properties = cache / "run" / "server.properties"
        controller = re.search(r"CONTROLLER://[^:]+:(\d+)", properties.read_text()) if properties.exists() else None
        self._env = {**os.environ, "MASH_CACHE_DIR": str(cache), "MASH_KAFKA_PORT": port,
                     **({"MASH_KAFKA_CONTROLLER_PORT": controller.group(1)} if controller else {})}
        status = self._stack("status", check=False)
        if not re.search(rf"^kafka\s+running\s+pid=\d+\s+port={port}\b", status, re.MULTILINE):
            raise RuntimeError(
                f"the fault suite restarts the broker with infra/stack.sh, but no broker it started runs on port {port}"
                f" under {cache} (status: {status.strip()!r}); run `make test`, or `bash infra/stack.sh up` with the"
                " same MASH_CACHE_DIR and MASH_KAFKA_PORT as the tests"
            )

    def _stack(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["bash", str(STACK), *args], env=self._env, capture_output=True, text=True,
                              check=False, timeout=300)
        if check and done.returncode != 0:
            raise RuntimeError(f"infra/stack.sh {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def stop(self) -> None:
        """Stop the broker (SIGTERM, its data kept)."""
        self._stack("stop", "kafka")

    def start(self) -> None:
        """Start it again and wait until it is ready."""
        self._stack("start", "kafka")
