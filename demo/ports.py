"""Ports for the processes the demo and the tests start: chosen where no outgoing connection can take them, and
never handed to two processes.

A port asked of the kernel (bind to port 0) comes from its ephemeral range (32768 to 60999 on Linux), the same
range every outgoing connection takes its local port from. A service is told its port and binds it a second or
more later, once its process has started; meanwhile any of the hundreds of connections the brokers' and the
store's clients open can take that very port, and the service dies with "address already in use" (seen in a
clean-clone run: a two-hub test's enquiry service, so its cases never reached a decision). So ports are drawn at
random from below the ephemeral range, clear of the stacks' own ports (Kafka from 9092, MongoDB from 27017, and
the fault suite's stacks 100 and 200 above them).

A port a hub gave a service stays that service's while the hub lives: a killed service is restarted on it. While
it is down the port is free, and another test process drawing it then took it (seen too: a fault test's notify
could not bind again). So every port handed out is also reserved across processes, by a file created exclusively
under the system's temporary directory, and not handed out again by anyone for `HOLD_SECONDS`.
"""

from __future__ import annotations

import os
import random
import socket
import tempfile
import time
from pathlib import Path

LOWEST, BELOW = 10_000, 27_000  # above the stacks' Kafka ports (9092 to 9300); the MongoDB ports start at 27017
HOLD_SECONDS = 3600.0  # longer than any test run; a demo's processes hold their ports bound anyway
RESERVED = Path(tempfile.gettempdir()) / "mash-ports"
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_draw = random.SystemRandom()  # not a test's randomness: other processes must not draw the same sequence


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nobody listens on now, that no outgoing connection will be given, and that no
    other process has been handed in the last `HOLD_SECONDS`."""
    below = min(BELOW, _ephemeral_start())
    if below <= LOWEST:  # an unusual kernel setting leaves no such range: fall back to the kernel's choice
        return _kernels_choice(host)
    for _ in range(500):
        port = _draw.randrange(LOWEST, below)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        if _reserve(port):
            return port
    return _kernels_choice(host)


def _reserve(port: int) -> bool:
    """Claim `port` for this process, unless another process (or this one) was handed it within the hold."""
    RESERVED.mkdir(exist_ok=True)
    mark = RESERVED / str(port)
    for _ in range(2):
        try:
            os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return True
        except FileExistsError:
            try:
                if time.time() - mark.stat().st_mtime < HOLD_SECONDS:
                    return False
                mark.unlink()  # a reservation of a run long gone
            except FileNotFoundError:
                pass
    return False


def _ephemeral_start() -> int:
    """Where the kernel starts handing out ports for outgoing connections (its setting, or Linux's default)."""
    try:
        return int(_EPHEMERAL.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _kernels_choice(host: str) -> int:
    """The kernel's free port: the old way, for a machine whose ephemeral range leaves nothing below it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
