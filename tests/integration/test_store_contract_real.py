"""The store contract on the real MongoDB-protocol server (mongo-java-server natively, MongoDB in containers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests.support.infrastructure import Infrastructure
from tests.support.store_contract import StoreContract, new_id


class TestStoreContractOnTheRealServer(StoreContract):
    """Each test gets its own database; the 'replica' reaches it through a client of its own."""

    @pytest.fixture
    async def database(self) -> str:
        return new_id()

    @pytest.fixture
    async def collection(self, infrastructure: Infrastructure, database: str) -> AsyncIterator[Any]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
        yield client[database]["aggregates"]
        await client.drop_database(database)
        await client.close()

    @pytest.fixture
    async def replica_collection(
        self, infrastructure: Infrastructure, database: str, collection: Any
    ) -> AsyncIterator[Any]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
        yield client[database]["aggregates"]
        await client.close()
