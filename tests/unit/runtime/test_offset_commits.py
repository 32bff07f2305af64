"""Offsets committed together (mash_runtime.commits), against a consumer that records what it is asked to commit.

On the real broker: tests/integration/test_runtime_consuming.py (fewer commits than records, a graceful stop
commits every finished record, a consumer that died has its uncommitted records delivered again).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from mash_runtime.commits import OffsetCommits

from tests.support.waiting import eventually

pytestmark = pytest.mark.unit

A0, A1 = TopicPartition("a", 0), TopicPartition("a", 1)


class _Consumer:
    """Records each commit; `hold` keeps a commit in flight until released; `refuse` fails the next one."""

    def __init__(self) -> None:
        self.committed: list[dict[TopicPartition, int]] = []
        self.hold: asyncio.Event | None = None
        self.in_flight = asyncio.Event()
        self.refuse = False

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.in_flight.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.refuse:
            self.refuse = False
            raise RuntimeError("the partition was revoked")
        self.committed.append(dict(offsets))


def _as_consumer(consumer: _Consumer) -> AIOKafkaConsumer:
    return cast("AIOKafkaConsumer", consumer)


async def _committed(consumer: _Consumer, n: int) -> None:
    """Wait until the consumer has been asked for `n` commits (the committing task runs on its own)."""

    async def enough() -> bool:
        return len(consumer.committed) >= n

    await eventually(enough, timeout=5, interval=0.001, what=f"{n} commits")


async def test_records_finished_together_go_in_one_commit_at_each_partitions_next_offset() -> None:
    commits, consumer = OffsetCommits(linger=0), _Consumer()
    for partition, offset in [(A0, 4), (A0, 5), (A1, 9), (A0, 6)]:
        commits.finished(_as_consumer(consumer), partition, offset)
    await _committed(consumer, 1)
    await commits.flush()  # nothing left waiting: no second commit
    assert consumer.committed == [{A0: 7, A1: 10}]
    assert commits.commits == 1


async def test_what_finishes_while_a_commit_is_in_flight_goes_in_the_next_one() -> None:
    commits, consumer = OffsetCommits(linger=0), _Consumer()
    consumer.hold = asyncio.Event()
    commits.finished(_as_consumer(consumer), A0, 0)
    await asyncio.wait_for(consumer.in_flight.wait(), timeout=5)
    commits.finished(_as_consumer(consumer), A0, 1)
    commits.finished(_as_consumer(consumer), A0, 2)
    consumer.hold.set()
    await _committed(consumer, 2)
    assert consumer.committed == [{A0: 1}, {A0: 3}]


async def test_a_graceful_stop_commits_at_once_what_is_gathering() -> None:
    commits, consumer = OffsetCommits(linger=3600), _Consumer()  # would gather for an hour
    commits.finished(_as_consumer(consumer), A1, 2)
    assert consumer.committed == []
    await asyncio.wait_for(commits.flush(), timeout=5)
    assert consumer.committed == [{A1: 3}]


async def test_after_a_graceful_stop_a_started_again_runtime_commits_again() -> None:
    commits, consumer = OffsetCommits(linger=0), _Consumer()
    commits.finished(_as_consumer(consumer), A0, 0)
    await commits.flush()  # the first run stops, committing what waits
    assert consumer.committed == [{A0: 1}]

    commits.open()  # the runtime starts again in the same process
    commits.finished(_as_consumer(consumer), A0, 1)
    await _committed(consumer, 2)
    assert consumer.committed == [{A0: 1}, {A0: 2}]


async def test_a_refused_commit_is_dropped_not_raised_and_the_next_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    commits, consumer = OffsetCommits(linger=0), _Consumer()
    consumer.refuse = True
    commits.finished(_as_consumer(consumer), A0, 0)
    commits.finished(_as_consumer(consumer), A0, 1)  # at once: the same commit, refused
    await asyncio.wait_for(consumer.in_flight.wait(), timeout=5)
    commits.finished(_as_consumer(consumer), A0, 2)  # after it: the next commit, accepted
    await _committed(consumer, 1)
    assert consumer.committed == [{A0: 3}]
    assert commits.commits == 2
    assert any("delivered again" in record.getMessage() for record in caplog.records)


def test_consumers_are_told_apart() -> None:
    async def scenario() -> list[Any]:
        commits, first, second = OffsetCommits(linger=0), _Consumer(), _Consumer()
        commits.finished(_as_consumer(first), A0, 0)
        commits.finished(_as_consumer(second), A0, 5)
        await _committed(first, 1)
        await _committed(second, 1)
        return [first.committed, second.committed]

    assert asyncio.run(scenario()) == [[{A0: 1}], [{A0: 6}]]
