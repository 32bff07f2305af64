"""Stopping a service within a bound, whatever state the broker and the store are in.

On SIGTERM a service stops its relay and clocks, then its Kafka clients, then its store client. With the
broker already down each of these can wait a long time: a relay mid-publish waits for metadata, a
consumer's close tries to commit and leave its group, a producer's close flushes. An orchestrator kills
a service that does not go within its grace period, and a person at a terminal waits. So each step here
gets `shutdown_step_seconds` and is then abandoned: nothing is lost by it, because an outbox entry not
yet published stays in the store for the next start, and an offset not committed is redelivered and
skipped as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

log = logging.getLogger(__name__)


async def stop_tasks(tasks: Sequence[asyncio.Task[Any]], timeout: float) -> None:
    """Give `tasks` (already asked to stop) `timeout` seconds together, then cancel what is left."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        log.warning("shutdown: %s did not stop in %.1f s; cancelled", task.get_name(), timeout)
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def bounded(step: Awaitable[Any], timeout: float, what: str) -> None:
    """Run one shutdown step for at most `timeout` seconds; a failure or a timeout is logged, not raised."""
    try:
        await asyncio.wait_for(step, timeout=timeout)
    except TimeoutError:
        log.warning("shutdown: %s did not finish in %.1f s; abandoned", what, timeout)
    except Exception:
        log.exception("shutdown: %s failed", what)
