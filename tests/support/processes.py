"""Run a service or an agency kit as a real OS process, so tests can restart and kill it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.waiting import eventually


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """One running `python -m <module>` with its own environment and log file."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path, args: list[str] | None = None) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.args = args or []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        """Start the process (its output appended to the log file)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        return self

    async def wait_ready(self, port: int, timeout: float = 60.0) -> None:
        """Wait until /ready answers 200, failing early if the process died."""

        async def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.module} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                async with httpx.AsyncClient(timeout=2.0) as client:
                    response = await client.get(f"http://127.0.0.1:{port}/ready")
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        await eventually(ready, timeout=timeout, interval=0.2, what=f"{self.module} ready on {port}")

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
