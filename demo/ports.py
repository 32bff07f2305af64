"""Ports for the processes the demo and the tests start: chosen where no outgoing connection can take them.

A port asked of the kernel (bind to port 0) comes from its ephemeral range (32768 to 60999 on Linux), the same
range every outgoing connection takes its local port from. A service is told its port and binds it a second or
more later, once its process has started; meanwhile any of the hundreds of connections the brokers' and the
store's clients open can take that very port, and the service dies with "address already in use" (seen in a
clean-clone run: a two-hub test's enquiry service, so its cases never reached a decision). So ports are drawn at
random from below the ephemeral range, clear of the stacks' own ports (Kafka from 9092, MongoDB from 27017, and
the fault suite's stacks 100 and 200 above them), and only ones that bind now and were not handed out before in
this process. Two processes drawing the same port in the same moment remain possible, and unlikely: the range
holds 7,000 ports.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST, BELOW = 20_000, 27_000  # the stacks' MongoDB ports start at 27017
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()
_draw = random.SystemRandom()  # not a test's randomness: other processes must not draw the same sequence


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nobody listens on now and that no outgoing connection will be given."""
    below = min(BELOW, _ephemeral_start())
    if below <= LOWEST:  # an unusual kernel setting leaves no such range: fall back to the kernel's choice
        return _kernels_choice(host)
    for _ in range(500):
        port = _draw.randrange(LOWEST, below)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    return _kernels_choice(host)


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
