"""Fixtures shared by every test: real servers, a private topic namespace and databases per test.

On the secured native broker (infra/stack.sh; demo/kafka_access.py) the harness is the operator: the
aiokafka clients tests create to read and write topics directly log in as `admin`, and so do the
services and agency kits a test runs in its own process. The hub's own processes (demo.hub) connect as
their own principals, with ACLs on the test's namespace, exactly as deployed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from demo.forkserver import FORK_SERVER_SWITCH
from demo.kafka_access import ADMIN, KafkaAccess, authenticate_raw_clients
from tests.support.infrastructure import Infrastructure, locate

KAFKA_ACCESS = KafkaAccess.from_environment()
# The tests start hundreds of service and agency-kit processes: fork them from a parent that has imported the
# libraries (demo.forkserver) instead of paying 2.5 to 3.3 CPU-seconds of imports for each on two cores.
# `MASH_HUB_FORK_SERVER=0 pytest ...` starts them with a plain exec, as the demo and deployments do.
os.environ.setdefault(FORK_SERVER_SWITCH, "1")
# The tests' hubs, services and kits idle most of their lives, on two cores shared with the brokers: an idle
# consumer asks the broker again every fetch wait, so a longer one costs both sides less (an idle hub's services
# measured 4.8 against 3.6 CPU-s a minute, and the broker 4.5 against 2.7 for it, at 500 and 3,000 ms). A record
# that arrives is still fetched at once; a redelivery may wait up to this long. MASH_KAFKA_FETCH_MAX_WAIT_MS=500
# runs them with Kafka's default (the deployments' default too).
os.environ.setdefault("MASH_KAFKA_FETCH_MAX_WAIT_MS", "2000")
os.environ.setdefault("MASH_AGENCY_FETCH_MAX_WAIT_MS", os.environ["MASH_KAFKA_FETCH_MAX_WAIT_MS"])
# Under pytest-xdist, the end-to-end and browser packages run as one unit on one worker, one test after another as
# in a serial run: the browser modules share one package-scoped hub, and both packages run whole hubs whose
# tests allow the simulated agencies a bounded window to answer (20 s), which two hubs starting at once on two
# cores, beside the integration tests on the other workers, did not leave them (measured: three failures).
WHOLE_HUB_PACKAGES = ("tests/browser/", "tests/e2e/")
# The region's tests (issue 20) each start two hubs' services, the shared agency kits and a police router: run
# one after another on one worker of their own, so that no two regions start at once on two cores.
REGION_PACKAGES = ("tests/integration/federation/",)


def pytest_configure(config: pytest.Config) -> None:
    """Raw aiokafka clients in the harness log in as the operator when the broker asks for it."""
    if KAFKA_ACCESS is not None:
        authenticate_raw_clients(KAFKA_ACCESS, ADMIN)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test's markers agree with its folder, before `-m` deselects anything.

    Each of `make test`'s pytest runs collects only its own folders (the Makefile's UNIT_PATHS, STACK_PATHS,
    FAULT_PATHS) and chooses by marker within them, so a test whose marker disagrees with its folder would be run by
    none of them: an unmarked test in tests/unit, a unit test in tests/integration. Stop the run instead.
    """
    misplaced = []
    for item in items:
        path = Path(str(item.fspath)).as_posix()
        marks = {mark.name for mark in item.iter_markers()}
        if "/tests/unit/" in path:
            wrong = "unit" not in marks
        elif "/tests/faults/" in path:
            wrong = "unit" in marks  # tests/faults/conftest.py marks every test there `faults`
        else:
            wrong = bool(marks & {"unit", "faults"})
        if wrong:
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError("tests whose markers disagree with their folder (tests/unit: unit; elsewhere not "
                                "unit, and faults only in tests/faults), so no make target would run them: "
                                + ", ".join(misplaced))


@pytest.fixture(autouse=True)
def operator_credentials(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test on the real servers runs services and kits in this process as the operator (a super user)."""
    if KAFKA_ACCESS is None or "infrastructure" not in request.fixturenames:
        return
    password = KAFKA_ACCESS.password(ADMIN)
    for name, value in {"MASH_KAFKA_USERNAME": ADMIN, "MASH_KAFKA_PASSWORD": password,
                        "MASH_AGENCY_USERNAME": ADMIN, "MASH_AGENCY_PASSWORD": password}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """The real Kafka broker and MongoDB-protocol server (see tests/support/infrastructure.py)."""
    with ExitStack() as stack:
        try:
            yield locate(stack)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def namespace() -> str:
    """A topic namespace and database prefix of this test's own, so tests never see each other's events."""
    return f"t{uuid.uuid4().hex[:10]}"


# What the tests measured (the fault suite's counts and recovery times), printed in the run's summary.
FIGURES = "figures"
_figures: list[str] = []


@pytest.fixture
def figures(record_property: Callable[[str, object], None]) -> Callable[[str], None]:
    """Record a line of figures this test measured, for the run's summary.

    Not printed from the test: under pytest-xdist a test's own output is not shown; a report's user properties
    travel to the controller, which prints them after the results (`pytest_terminal_summary` below).
    """
    def record(line: str) -> None:
        record_property(FIGURES, line)
    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the figures of each test's call, in the order the tests ended."""
    if report.when == "call":
        _figures.extend(str(value) for name, value in report.user_properties if name == FIGURES)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures the tests recorded."""
    if _figures:
        terminalreporter.section(FIGURES)
        for line in _figures:
            terminalreporter.write_line(line)


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    """Where this test's service logs and span files go (kept by pytest for a failed run)."""
    return tmp_path



@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `--dist loadscope`, keep the tests that share a started hub on one pytest-xdist worker.

    xdist's loadscope deals out whole modules (and test classes): a module-scoped hub, postbox or browser
    starts once, on one worker, as in a serial run. The end-to-end and browser packages are one unit between
    them (WHOLE_HUB_PACKAGES). (`--dist loadgroup` with `xdist_group` marks would say the same, but with
    pytest 9.2 it silently stops grouping: pytest-xdist issue 1386.)
    """
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedHubScheduling(LoadScopeScheduling):
        """Loadscope, with the whole-hub packages as one unit, and the units that start processes dealt first."""

        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(WHOLE_HUB_PACKAGES):
                return "whole-hub packages"
            if nodeid.startswith(REGION_PACKAGES):
                return "region packages"
            return super()._split_scope(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if not self.ordered:
                self.ordered = True
                units = sorted(self.workqueue.items(), key=lambda unit: (_starts_processes(config.rootpath, unit[0]),
                                                                       len(unit[1])), reverse=True)
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return SharedHubScheduling(config, log)


def _starts_processes(root: Path, scope: str) -> bool:
    """Whether a unit of work starts service processes (demo.hub), and so takes minutes rather than seconds.

    xdist deals the units with the most tests first; a module with one test that starts a hub of processes
    (test_replicas.py) came last and ran alone while the other workers had finished (measured: the last minutes
    of the real-stack step at half the machine). Dealt first, it runs while the quick modules fill the gaps.
    """
    if scope in ("whole-hub packages", "region packages"):
        return True
    module = root / scope.split("::", 1)[0]
    return any(path.is_file() and "demo.hub import" in path.read_text(encoding="utf-8")
               for path in (module, module.parent / "conftest.py"))
