"""Offsets committed together: what a consumer has finished goes to the broker in one commit, not one per record.

faststream's acknowledgement of a record commits the consumer's position at once and the consumer waits for the
broker's answer before it takes the next record: a round trip to the group coordinator for every record, about a
tenth of a consuming service's CPU and a commit's latency added to each record of a backlog. The guarantee that
matters is only that an offset is never committed before its record's effects are stored, and that holds just
as well when the offsets of the records finished in the last moments are committed together, after them.

So a subscription (mash_runtime.consuming) hands each record it has finished here, as its next offset, and goes
on to the next record; a commit is sent `consumer_commit_linger_ms` after the first offset waiting, carrying the
highest finished offset of each partition, with at most one commit in flight per consumer (whatever finishes
meanwhile goes in the next). On a graceful stop the waiting offsets are committed before the consumers stop.

What a crash (or a rebalance that moves a partition before its commit) leaves uncommitted is delivered again,
as it always could be between a record's effects and its commit, and the inbox of the aggregate it changed
recognises it (mash_runtime.store): the linger trades only the size of that redelivery against commit requests.
A commit the broker refuses (the partition was revoked, the coordinator moved) is logged and dropped for the
same reason: the records are delivered again to whoever owns the partition now.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    """One consumer's finished offsets not yet committed, and its committing task."""

    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    sending: bool = False


class OffsetCommits:
    """Commits finished records' offsets per consumer, gathered for `linger` seconds; see the module's docstring."""

    def __init__(self, linger: float) -> None:
        self._linger = linger
        self._waiting: dict[AIOKafkaConsumer, _Waiting] = {}
        self._closing = False
        self.commits = 0  # commit requests sent (tests and the benchmark read it)

    def open(self) -> None:
        """Commit again after a `flush` (a service's runtime started again in the same process, as tests do)."""
        self._closing = False

    def finished(self, consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int) -> None:
        """The record at `offset` has had its effects stored: its partition may be committed past it."""
        waiting = self._waiting.setdefault(consumer, _Waiting())
        if waiting.offsets.get(partition, -1) < offset + 1:
            waiting.offsets[partition] = offset + 1
        if waiting.task is None or waiting.task.done():
            waiting.task = asyncio.get_running_loop().create_task(self._commit(consumer, waiting),
                                                                  name="offset-commits")

    async def _commit(self, consumer: AIOKafkaConsumer, waiting: _Waiting) -> None:
        while waiting.offsets and not self._closing:
            if self._linger:
                await asyncio.sleep(self._linger)  # gathering: records finished meanwhile go in this commit
            await self._send(consumer, waiting)
        if self._waiting.get(consumer) is waiting:
            del self._waiting[consumer]  # a consumer that is gone (a restart makes new ones) is not kept

    async def _send(self, consumer: AIOKafkaConsumer, waiting: _Waiting) -> None:
        offsets, waiting.offsets = waiting.offsets, {}
        if not offsets:
            return
        self.commits += 1
        waiting.sending = True
        try:
            await consumer.commit(offsets)
        except Exception as exc:  # revoked, coordinator moved, broker gone: delivered again and recognised then
            log.warning("offsets not committed; those records will be delivered again and recognised",
                        extra={"fields": {"partitions": len(offsets), "error": f"{type(exc).__name__}: {exc}"[:300]}})
        finally:
            waiting.sending = False

    async def flush(self) -> None:
        """Commit every offset waiting now, at once (before the consumers stop); later ones are left to redelivery."""
        self._closing = True
        for consumer, waiting in list(self._waiting.items()):
            if waiting.task is not None and not waiting.task.done():
                if not waiting.sending:
                    waiting.task.cancel()  # it was only gathering: its offsets are still waiting
                await asyncio.gather(waiting.task, return_exceptions=True)
            await self._send(consumer, waiting)
        self._waiting.clear()
