"""A process forked from the fork server (demo.forkserver) behaves as the `python ...` it stands in for.

The tests start their hubs' services and agency kits this way (tests/conftest.py), and the kill, crash and restart
tests read a process's exit status; so a forked child must take its own argv, environment, working directory and
log, report its exit status as `subprocess.Popen` does, and not share its random state with its siblings.
These servers preload only the standard library, so that the tests are cheap; the preload of the hub's libraries
is exercised by every test that starts a hub.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo import forkserver
from demo.forkserver import FORK_SERVER_SWITCH, ForkedChild, ForkServer
from demo.hub import HubProcess

pytestmark = [pytest.mark.unit, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfd is Linux's")]


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    """One server for the module's tests."""
    started = ForkServer(preload=("json",))
    yield started
    started.close()


def run(server: ForkServer, argv: list[str], log: Path, env: dict[str, str] | None = None) -> ForkedChild:
    with log.open("ab") as out:
        return server.start(argv, {**os.environ, **(env or {})}, out.fileno())


def test_a_child_runs_code_with_its_own_environment_and_directory_and_writes_to_its_log(
    server: ForkServer, tmp_path: Path
) -> None:
    log = tmp_path / "child.log"
    child = run(server, ["-c", "import os, sys; print(os.environ['MASH_WHO'], os.getcwd(), sys.argv)", "one"],
                log, {"MASH_WHO": "intake"})
    assert child.wait(timeout=60) == 0
    assert log.read_text() == f"intake {os.getcwd()} ['-c', 'one']\n"


def test_a_module_runs_as_main_with_its_arguments(server: ForkServer, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('{"a": [1, 2]}')
    log = tmp_path / "module.log"
    child = run(server, ["-m", "json.tool", "--compact", str(source)], log)
    assert child.wait(timeout=60) == 0
    assert log.read_text() == '{"a":[1,2]}\n'


def test_exit_statuses_read_as_popen_reads_them(server: ForkServer, tmp_path: Path) -> None:
    exits = run(server, ["-c", "import sys; sys.exit(3)"], tmp_path / "exits.log")
    crashes = run(server, ["-c", "import os; os._exit(137)"], tmp_path / "crashes.log")
    raises = run(server, ["-c", "raise ValueError('boom')"], tmp_path / "raises.log")
    assert (exits.wait(timeout=60), crashes.wait(timeout=60), raises.wait(timeout=60)) == (3, 137, 1)
    assert "ValueError: boom" in (tmp_path / "raises.log").read_text()


def test_a_killed_child_reads_minus_the_signal_and_a_running_one_times_out(server: ForkServer, tmp_path: Path) -> None:
    child = run(server, ["-c", "import signal; signal.pause()"], tmp_path / "pause.log")
    assert child.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(timeout=0.1)
    child.kill()
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert child.poll() == -signal.SIGKILL
    child.terminate()  # a child that has ended is not signalled again (its pid may be another's by now)


def test_siblings_do_not_share_their_parents_random_state(server: ForkServer, tmp_path: Path) -> None:
    logs = [tmp_path / f"random-{n}.log" for n in range(2)]
    children = [run(server, ["-c", "import random; print(random.random())"], log) for log in logs]
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    assert logs[0].read_text() != logs[1].read_text()


def test_a_hub_process_is_forked_only_when_switched_on_and_python_would_start_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    light = ForkServer(preload=("json",))
    monkeypatch.setattr(forkserver, "_server", light)
    try:
        monkeypatch.setenv(FORK_SERVER_SWITCH, "1")
        forked = HubProcess("forked", ["-c", "pass"], {}, tmp_path / "forked.log").start()
        # Python reads PYTHON* variables as it starts, which a fork has done already: such a process is exec'd.
        own_path = HubProcess("own-path", ["-c", "pass"], {"PYTHONPATH": str(tmp_path)}, tmp_path / "own.log").start()
        monkeypatch.setenv(FORK_SERVER_SWITCH, "0")
        execd = HubProcess("execd", ["-c", "pass"], {}, tmp_path / "execd.log").start()
        assert (type(forked.proc), type(own_path.proc), type(execd.proc)) == (ForkedChild, subprocess.Popen,
                                                                               subprocess.Popen)
        assert [process.wait_exit() for process in (forked, own_path, execd)] == [0, 0, 0]
    finally:
        light.close()
