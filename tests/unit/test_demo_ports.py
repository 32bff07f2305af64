"""The ports the demo and the tests give the processes they start: below the kernel's ephemeral range (where
outgoing connections take theirs), clear of the stacks' ports, free now, and never handed to two processes."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from demo import ports

pytestmark = pytest.mark.unit


def _bindable(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))  # raises if it were taken


@pytest.fixture(autouse=True)
def reservations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own reservations, not the machine's."""
    monkeypatch.setattr(ports, "RESERVED", tmp_path / "mash-ports")
    return tmp_path / "mash-ports"


def test_ports_are_free_distinct_and_below_where_outgoing_connections_take_theirs() -> None:
    drawn = [ports.free_port() for _ in range(50)]

    assert len(set(drawn)) == len(drawn)
    assert all(ports.LOWEST <= port < min(ports.BELOW, ports._ephemeral_start()) for port in drawn)
    for port in drawn[:20]:
        _bindable(port)


def test_a_port_someone_listens_on_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        draws = iter([busy, busy])
        draw = ports._draw.randrange
        monkeypatch.setattr(ports, "LOWEST", 1024)
        monkeypatch.setattr(ports, "BELOW", 65536)
        monkeypatch.setattr(ports, "_ephemeral_start", lambda: 65536)
        monkeypatch.setattr(ports._draw, "randrange", lambda lo, hi: next(draws, None) or draw(lo, hi))
        assert ports.free_port() != busy


def test_a_port_another_process_was_handed_is_not_handed_out_again(reservations: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first = ports.free_port()
    draws = iter([first])
    draw = ports._draw.randrange
    monkeypatch.setattr(ports._draw, "randrange", lambda lo, hi: next(draws, None) or draw(lo, hi))
    assert (reservations / str(first)).exists()  # what another process would find
    assert ports.free_port() != first


def test_a_reservation_older_than_the_hold_is_taken_back(reservations: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = ports.free_port()
    old = time.time() - ports.HOLD_SECONDS - 60
    os.utime(reservations / str(port), (old, old))
    monkeypatch.setattr(ports._draw, "randrange", lambda _lo, _hi: port)
    assert ports.free_port() == port


def test_with_no_room_below_the_ephemeral_range_the_kernel_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_ephemeral_start", lambda: 10_000)
    _bindable(ports.free_port())
