"""Fixtures shared by every test: real servers, a private topic namespace and databases per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.infrastructure import Infrastructure, locate


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


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    """Where this test's service logs and span files go (kept by pytest for a failed run)."""
    return tmp_path
