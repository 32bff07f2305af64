"""How many copies of a topic the services ask for, and how many must hold a write before it is acknowledged."""

from __future__ import annotations

import pytest
from mash_runtime.settings import HubSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_a_cluster_of_three_asks_for_three_copies_and_two_in_sync() -> None:
    settings = HubSettings(kafka_replication_factor=3, kafka_min_insync_replicas=2)
    assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas) == (3, 2)


def test_unset_min_insync_leaves_the_brokers_default() -> None:
    assert HubSettings(kafka_replication_factor=1, kafka_min_insync_replicas=None).kafka_min_insync_replicas is None


def test_more_in_sync_replicas_than_copies_is_refused_at_start() -> None:
    # Every acks=all write on such a topic would fail: better not to start than to create it.
    with pytest.raises(ValidationError, match="exceeds kafka_replication_factor"):
        HubSettings(kafka_replication_factor=1, kafka_min_insync_replicas=2)
