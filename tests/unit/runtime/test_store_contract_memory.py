"""The store contract on the in-memory fake collection that unit tests use."""

from __future__ import annotations

import pytest
from mash_runtime.memory_store import MemoryCollection

from tests.support.store_contract import StoreContract

pytestmark = pytest.mark.unit


class TestStoreContractInMemory(StoreContract):
    """The fake has one process's view only, so the 'replica' reaches the very same object."""

    @pytest.fixture
    def collection(self) -> MemoryCollection:
        return MemoryCollection()

    @pytest.fixture
    def replica_collection(self, collection: MemoryCollection) -> MemoryCollection:
        return collection
