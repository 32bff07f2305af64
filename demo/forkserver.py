"""A fork server for the hub's Python processes: a parent that has imported the libraries forks a child for each.

A service started as a fresh `python -m mash_<service>` spends 2.5 to 3.3 s of CPU importing pydantic, FastAPI,
PyMongo, faststream, aiokafka, OpenTelemetry and the contract's models before it does anything; the test suite
starts hundreds of them on two cores. A child forked from a parent that has already imported them starts in a
fraction of that. `demo.hub.HubProcess` uses it when `FORK_SERVER_SWITCH` is set (the tests set it); the demo and
deployments start every process with a plain exec.

The starter (`ForkServer`, in the test or demo process) runs the server (`serve`) as its own child, tied to the
starter's main thread by Linux's parent-death signal. Each start is one SOCK_SEQPACKET connection: the request
(argv, environment, working directory) with the log file's descriptor; the server forks, answers the child's pid
and, when the child ends, its exit status in `subprocess.Popen`'s convention (negative for a signal). So a
`ForkedChild` can be polled, waited for, signalled and killed like the `Popen` it stands in for, and a child ends
(SIGTERM) when the server does, which ends when the starter does.

The server has no threads, no event loop and no open sockets but its own when it forks: what it imports starts
nothing (`serve` refuses to run if it finds a second thread). A child re-seeds `random`, takes the request's
environment, working directory and argv, and runs its module or script as `python` would, in a fresh `__main__`.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import random
import runpy
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORK_SERVER_SWITCH = "MASH_HUB_FORK_SERVER"  # "1": demo.hub forks its Python processes from a ForkServer
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when the thread that started it dies
# What the hub's processes import before they do anything: the libraries, the runtime and the contract, the
# services' and the agency kit's wiring. Their `__main__` modules are left for each child to run.
PRELOADED = (
    "mash_runtime.service", "mash_runtime.region", "mash_schemas",
    "mash_intake.app", "mash_intake.bootstrap", "mash_intake.settings", "mash_intake.police_router",
    "mash_decision.app", "mash_enquiry.app", "mash_notify.app", "mash_insight.app",
    "mash_agency.cli", "mash_workspace.app",
)
MESSAGE_BYTES = 1 << 20  # one request (argv and environment) or answer fits in one datagram of this size


def _arm_parent_death_signal(parent: int) -> None:
    """Have Linux send SIGTERM to this process when `parent` (its starting thread) ends; exit if it already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _returncode(wait_status: int) -> int:
    """An exit status as `subprocess.Popen.returncode` gives it: the exit code, or minus the killing signal."""
    return os.waitstatus_to_exitcode(wait_status)


@dataclass(frozen=True)
class Program:
    """What a child runs, as the arguments after `python` on a command line would say it."""

    argv: list[str]  # ["-m", module, args...], ["-c", code, args...] or [script, args...]
    cwd: str

    def run(self) -> None:
        """Run the program in this process as `python <argv>` would: a fresh `__main__`, sys.argv and sys.path[0]."""
        first, *rest = self.argv
        if first == "-m":
            module, *args = rest
            sys.argv = [module, *args]  # runpy sets argv[0] to the module's file
            sys.path[0] = self.cwd
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        elif first == "-c":
            code, *args = rest
            sys.argv = ["-c", *args]
            sys.path[0] = ""
            main = sys.modules["__main__"].__dict__
            main.clear()
            main.update({"__name__": "__main__", "__builtins__": __builtins__})
            exec(compile(code, "<string>", "exec"), main)  # noqa: S102 - the starter's own code, as `python -c`
        else:
            sys.argv = [first, *rest]
            sys.path[0] = str(Path(first).resolve().parent)
            runpy.run_path(first, run_name="__main__")


class _Server:
    """The server's loop: accept start requests, fork, report each child's end to its starter."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)
        self.children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, the starter's connection)

    def run(self) -> Program:
        """Serve until a fork returns in the child: the child's program, to run outside this loop and its frames."""
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.listener:
                    program = self._start()
                    if program is not None:
                        return program
                else:
                    self._reap(int(key.fd))

    def _start(self) -> Program | None:
        connection, _ = self.listener.accept()
        message, fds, _, _ = socket.recv_fds(connection, MESSAGE_BYTES, 1)
        request = json.loads(message)
        log = fds[0]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_child(connection, log, request["env"])
            return Program(argv=request["argv"], cwd=request["cwd"])
        os.close(log)
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = (pid, connection)
        self.selector.register(pidfd, selectors.EVENT_READ)
        connection.sendall(json.dumps({"pid": pid}).encode())
        return None

    def _become_child(self, connection: socket.socket, log: int, env: Mapping[str, str]) -> None:
        server = os.getppid()
        for pidfd, (_, other) in self.children.items():
            os.close(pidfd)
            other.close()
        self.selector.close()
        self.listener.close()
        connection.close()
        _arm_parent_death_signal(server)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(env)
        random.seed()  # a fork has its parent's random state; a fresh process would not

    def _reap(self, pidfd: int) -> None:
        pid, connection = self.children.pop(pidfd)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        with contextlib.suppress(OSError):  # the starter has gone: nobody asks for this child's status any more
            connection.sendall(json.dumps({"returncode": _returncode(status)}).encode())
        connection.close()


def serve(listener_fd: int, parent: int, preload: Sequence[str] = PRELOADED) -> None:
    """The server process: import what the hub's processes import, then fork a child for each start request."""
    _arm_parent_death_signal(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the starter's Ctrl-C is the starter's to handle
    with warnings.catch_warnings():  # a library's import-time deprecation notice, once per server, is only noise
        warnings.simplefilter("ignore")
        for module in preload:
            importlib.import_module(module)
    if threading.active_count() != 1:  # a fork copies only the forking thread: no child may inherit a half of one
        raise RuntimeError(f"importing {list(preload)} started threads: {threading.enumerate()}")
    listener = socket.socket(fileno=listener_fd)
    program = _Server(listener).run()
    del listener
    program.run()


class ForkedChild:
    """A process the fork server started, driven like the `subprocess.Popen` it stands in for."""

    def __init__(self, connection: socket.socket, pid: int, argv: Sequence[str]) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self.pid = pid
        self.args = list(argv)
        self.returncode: int | None = None

    def _receive(self, timeout: float | None) -> None:
        """Take the child's exit status if the server sends it within `timeout` seconds (None: wait for it).

        Waits outside the lock, so that one thread waiting for the end does not hold up another's poll.
        """
        if self.returncode is not None:
            return
        readable, _, _ = select.select([self._connection], [], [], timeout)
        if not readable:
            return
        with self._lock:
            if self.returncode is not None:  # another thread took it meanwhile
                return
            message = self._connection.recv(MESSAGE_BYTES)
            # No message: the server died, and with it (the parent-death signal) the child.
            self.returncode = int(json.loads(message)["returncode"]) if message else -signal.SIGTERM

    def __del__(self) -> None:
        self._connection.close()

    def poll(self) -> int | None:
        """The exit status if the child has ended, else None."""
        self._receive(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to end; `subprocess.TimeoutExpired` after `timeout` seconds."""
        self._receive(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signal the child, unless it has already ended (as Popen does)."""
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The starter's side: runs the server process on first use and asks it for children."""

    def __init__(self, preload: Sequence[str] = PRELOADED) -> None:
        self._preload = tuple(preload)
        self._address = f"\0mash-fork-server-{os.getpid()}-{uuid.uuid4().hex}"  # abstract: nothing on disk
        self._process: subprocess.Popen[bytes] | None = None
        self._environment: dict[str, str] = {}

    def usable(self, env: Mapping[str, str]) -> bool:
        """Whether a child with environment `env` may be forked: Python reads its own variables only when it starts."""
        python = {k: v for k, v in env.items() if k.startswith("PYTHON")}
        if self._process is not None and self._process.poll() is None:
            return python == {k: v for k, v in self._environment.items() if k.startswith("PYTHON")}
        return threading.current_thread() is threading.main_thread()  # the server's life is its starter thread's

    def start(self, argv: Sequence[str], env: Mapping[str, str], log: int) -> ForkedChild:
        """Fork a child running `python <argv>` with environment `env`, its output appended to the file `log`."""
        if self._process is None or self._process.poll() is not None:
            self._launch()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        connection.connect(self._address)
        request: dict[str, Any] = {"argv": list(argv), "env": dict(env), "cwd": os.getcwd()}
        socket.send_fds(connection, [json.dumps(request).encode()], [log])
        answer = connection.recv(MESSAGE_BYTES)
        if not answer:
            raise RuntimeError(f"the fork server (pid {self._process_pid()}) ended before starting {list(argv)}")
        return ForkedChild(connection, int(json.loads(answer)["pid"]), argv)

    def close(self) -> None:
        """End the server (and with it, by the parent-death signal, any child still running)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def _process_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _launch(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(self._address)
        listener.listen(64)
        self._environment = dict(os.environ)
        root = Path(__file__).resolve().parents[1]
        code = f"from demo.forkserver import serve; serve({listener.fileno()}, {os.getpid()}, {self._preload!r})"
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", code], cwd=root, stdin=subprocess.DEVNULL, pass_fds=[listener.fileno()],
        )
        listener.close()  # the server holds it; connecting before it accepts just queues


_server: ForkServer | None = None


def fork_server() -> ForkServer:
    """This process's fork server (one per starter process)."""
    global _server
    if _server is None:
        _server = ForkServer()
    return _server
