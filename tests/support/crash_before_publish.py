"""Run a service that dies like a killed process (exit 137) just before its relay's first publish.

    python -m tests.support.crash_before_publish mash_decision

The service's write (state and outbox) is stored; the event is not yet on the broker. A restarted,
healthy process must then publish it exactly once. The hook lives here, in the tests, and reaches the
service through mash_runtime.relay.BEFORE_SEND: the services' code carries no fault switch.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys

from mash_runtime import relay
from mash_runtime.outbox import OutboxEntry


def crash(entry: OutboxEntry) -> None:
    """Exit at once, as SIGKILL would: no clean-up, no flush, nothing published."""
    logging.getLogger("tests.fault").error("fault injection: exiting before publishing %s", entry.event_id)
    os._exit(137)


def main() -> None:
    """Install the hook, then run the named service module as `python -m` would."""
    service_module = sys.argv[1]
    sys.argv = [service_module, *sys.argv[2:]]
    relay.BEFORE_SEND.append(crash)
    runpy.run_module(service_module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
