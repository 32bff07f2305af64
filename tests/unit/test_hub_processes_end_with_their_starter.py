"""A hub's service processes end when the process that started them dies without its teardown.

An interrupted test run, or a pytest INTERNALERROR, used to leave a hub's services running; they kept retrying a
broker and store that the next run started on the same ports and ate the CPU that run needed (seen in a CI
rehearsal: four services still running 25 minutes after their run had failed). demo.hub asks Linux to send them
SIGTERM when their starter dies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from demo.forkserver import FORK_SERVER_SWITCH
from tests.support.waiting import eventually

pytestmark = [pytest.mark.unit, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")]

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child whose starter died is reparented and reaped by init; until then it may be a zombie.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("fork_server", ["0", "1"], ids=["exec", "fork server"])
async def test_a_service_process_ends_when_its_starter_is_killed(tmp_path: Path, fork_server: str) -> None:
    """Started with a plain exec, or forked from the starter's fork server (demo.forkserver), which ends with it."""
    starter_script = textwrap.dedent(f"""
        import signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from demo import forkserver
        from demo.hub import HubProcess
        forkserver._server = forkserver.ForkServer(preload=("json",))  # the chain of ends, not the hub's imports
        child = HubProcess("sleeper", ["-c", "import signal; signal.pause()"], {{}}, Path({str(tmp_path / "s.log")!r}))
        child.start()
        print(child.proc.pid, type(child.proc).__name__, flush=True)
        signal.pause()  # alive until the test kills it
    """)
    starter = await asyncio.create_subprocess_exec(sys.executable, "-c", starter_script, stdout=asyncio.subprocess.PIPE,
                                                   env={**os.environ, FORK_SERVER_SWITCH: fork_server})
    try:
        assert starter.stdout is not None
        pid, kind = (await starter.stdout.readline()).decode().split()
        child_pid = int(pid)
        assert kind == ("ForkedChild" if fork_server == "1" else "Popen")
        assert _alive(child_pid)
        starter.send_signal(signal.SIGKILL)  # no teardown, no atexit: as when a run is killed
        await starter.wait()

        async def gone() -> bool:
            return not _alive(child_pid)

        await eventually(gone, timeout=30, what=f"the service process {child_pid} to end with its starter")
    finally:
        if starter.returncode is None:
            starter.kill()
            await starter.wait()
